/// Fixed-capacity rows of `width` values stored as fp32, bf16 or FP8 e4m3 with one power-of-two
/// scale per `block` values: the storage of every KV-cache entry.
public final class PackedRows: @unchecked Sendable {
    public enum Format: String, Sendable { case f32, bf16, fp8 }
    public let format: Format
    public let width: Int
    public let block: Int
    public let capacity: Int
    let blocksPerRow: Int
    let data: OwnedBuffer
    let scales: UnsafeMutablePointer<Float>

    /// Room for `capacity` rows of `width` values; FP8 rows get `ceil(width / block)` scales.
    public init(format: Format, width: Int, capacity: Int, block: Int = 128) {
        self.format = format; self.width = width; self.block = block; self.capacity = capacity
        blocksPerRow = format == .fp8 ? (width + block - 1) / block : 0
        let elementSize = format == .f32 ? 4 : format == .bf16 ? 2 : 1
        data = OwnedBuffer(bytes: capacity * width * elementSize)
        scales = .allocate(capacity: Swift.max(1, capacity * blocksPerRow))
    }

    deinit { scales.deallocate() }

    /// Bytes held per row.
    public var bytesPerRow: Int { width * (format == .f32 ? 4 : format == .bf16 ? 2 : 1) + blocksPerRow * 4 }

    /// Stores `values[0..<width]` as row `r`, rounding to the storage format.
    public func set(_ r: Int, _ values: UnsafeBufferPointer<Float>) {
        precondition(r < capacity && values.count == width)
        switch format {
        case .f32:
            (data.pointer.assumingMemoryBound(to: Float.self) + r * width).update(from: values.baseAddress!, count: width)
        case .bf16:
            let p = data.pointer.assumingMemoryBound(to: UInt16.self) + r * width
            for i in 0..<width { p[i] = BF16.encode(values[i]) }
        case .fp8:
            FP8.quantize(values, block: block, codes: data.pointer.assumingMemoryBound(to: UInt8.self) + r * width,
                         scales: scales + r * blocksPerRow)
        }
    }

    /// Array form of `set`.
    public func set(_ r: Int, _ values: ArraySlice<Float>) {
        values.withUnsafeBufferPointer { set(r, $0) }
    }

    /// Writes row `r` as fp32 values into `out`; `scaled: false` leaves FP8 block scales out (the
    /// codes' own values).
    @inline(__always)
    public func decode(_ r: Int, into out: UnsafeMutablePointer<Float>, scaled: Bool = true) {
        switch format {
        case .f32:
            out.update(from: data.pointer.assumingMemoryBound(to: Float.self) + r * width, count: width)
        case .bf16:
            let p = data.pointer.assumingMemoryBound(to: UInt16.self) + r * width
            var i = 0
            while i + 16 <= width { UnsafeMutableRawPointer(out + i).storeBytes(of: bf16x16(p + i), as: SIMD16<Float>.self); i += 16 }
            while i < width { out[i] = BF16.decode(p[i]); i += 1 }
        case .fp8:
            let p = data.pointer.assumingMemoryBound(to: UInt8.self) + r * width
            for b in 0..<blocksPerRow {
                let start = b * block
                decodeFP8(p + start, out + start, Swift.min(width, start + block) - start, scale: scaled ? scales[r * blocksPerRow + b] * 256 : 256)
            }
        }
    }

    /// Row `r` as fp32 values.
    public func row(_ r: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: width) { buf, n in decode(r, into: buf.baseAddress!); n = width }
    }
}
