/// Element formats a weight matrix can be stored in.
public enum WeightFormat: String, Sendable {
    case fp8, bf16, f16, f32

    /// Bytes per element.
    public var elementSize: Int { self == .fp8 ? 1 : self == .f32 ? 4 : 2 }
}

/// A read-only `[rows, cols]` row-major weight matrix, usually memory-mapped from a checkpoint.
/// FP8 matrices carry one fp32 scale per 128×128 block (`[ceil(rows/128), ceil(cols/128)]`);
/// the real weight is `code × scale`.
public struct Matrix: @unchecked Sendable {
    public static let blockSize = 128
    /// The elements and block scales as plain pointers, for the kernels.
    let view: MatrixView
    public var rows: Int { view.rows }
    public var cols: Int { view.cols }
    public var format: WeightFormat { view.format }
    /// Row-major elements (1, 2 or 4 bytes each).
    var base: UnsafeRawPointer { view.base }
    /// FP8 block scales, pre-multiplied by 2^8 for the half-precision decode trick (see `fp8x16`).
    var scales: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: view.scales, count: format == .fp8 ? Matrix.scaleRows(rows) * Matrix.scaleCols(cols) : 0)
    }
    /// Keeps the memory behind `base` alive (a mapped file or an owned buffer).
    let owner: AnyObject
    /// Holds the block scales, which row slices share.
    private let scaleStorage: OwnedBuffer
    /// Holds the FP8 zero-chunk map (`MatrixView.zeroChunks`), which row slices share.
    private let chunkStorage: OwnedBuffer

    /// Wraps `rows × cols` elements at `base`, kept alive by `owner`. `blockScales` is required for FP8.
    public init(rows: Int, cols: Int, format: WeightFormat, base: UnsafeRawPointer, blockScales: [Float] = [], owner: AnyObject) {
        precondition(format != .fp8 || blockScales.count == Matrix.scaleRows(rows) * Matrix.scaleCols(cols))
        let chunks = OwnedBuffer(bytes: format == .fp8 ? (rows + 3) / 4 * MatrixView.chunkWords(cols) * 8 : 0)
        if format == .fp8 { mapZeroChunks(base.assumingMemoryBound(to: UInt8.self), rows: rows, cols: cols, into: chunks.pointer.assumingMemoryBound(to: UInt64.self)) }
        let scales = format == .fp8 ? blockScales.map { $0 * 256 } : [], storage = OwnedBuffer(bytes: scales.count * 4)
        scales.withUnsafeBytes { storage.pointer.copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(storage.pointer), byteCount: $0.count) }
        self.init(rows: rows, cols: cols, format: format, base: base, scales: (storage, 0), chunks: (chunks, 0), owner: owner)
    }

    /// `scales` and `chunks`: the block scales' and the zero-chunk map's storage, each with the byte
    /// offset of this matrix's first row of blocks or group.
    private init(rows: Int, cols: Int, format: WeightFormat, base: UnsafeRawPointer, scales: (OwnedBuffer, Int), chunks: (OwnedBuffer, Int), owner: AnyObject) {
        scaleStorage = scales.0
        chunkStorage = chunks.0
        view = MatrixView(rows: rows, cols: cols, format: format, base: base, scales: UnsafePointer((scales.0.pointer + scales.1).assumingMemoryBound(to: Float.self)),
                          zeroChunks: UnsafePointer((chunks.0.pointer + chunks.1).assumingMemoryBound(to: UInt64.self)))
        self.owner = owner
    }

    /// Rows `range` as a matrix of their own (no copy, its scales and zero-chunk map shared); FP8
    /// ranges start on a block boundary.
    public func rows(_ range: Range<Int>) -> Matrix {
        precondition(format != .fp8 || range.lowerBound % Matrix.blockSize == 0, "FP8 row slices start at a multiple of 128")
        let fp8 = format == .fp8
        return Matrix(rows: range.count, cols: cols, format: format, base: base + range.lowerBound * cols * elementSize,
                      scales: (scaleStorage, fp8 ? range.lowerBound / Matrix.blockSize * Matrix.scaleCols(cols) * 4 : 0),
                      chunks: (chunkStorage, fp8 ? range.lowerBound / 4 * MatrixView.chunkWords(cols) * 8 : 0), owner: owner)
    }

    /// Columns `range` as a matrix of its own (a copy); FP8 ranges start on a block boundary and end
    /// on one or at the last column.
    public func columns(_ range: Range<Int>) -> Matrix {
        precondition(format != .fp8 || (range.lowerBound % Matrix.blockSize == 0 && (range.upperBound % Matrix.blockSize == 0 || range.upperBound == cols)),
                     "FP8 column slices start and end on multiples of 128")
        let size = elementSize, out = OwnedBuffer(bytes: rows * range.count * size)
        for r in 0..<rows {
            (out.pointer + r * range.count * size).copyMemory(from: base + (r * cols + range.lowerBound) * size, byteCount: range.count * size)
        }
        let blocks = (range.lowerBound / Matrix.blockSize)..<Matrix.scaleCols(range.upperBound)
        let blockScales = format != .fp8 ? [] : (0..<Matrix.scaleRows(rows)).flatMap { b in blocks.map { scales[b * Matrix.scaleCols(cols) + $0] / 256 } }
        return Matrix(rows: rows, cols: range.count, format: format, base: UnsafeRawPointer(out.pointer), blockScales: blockScales, owner: out)
    }

    /// A matrix owning a copy of fp32 `values` (`[rows, cols]`).
    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols)
        let buffer = OwnedBuffer(bytes: values.count * 4)
        values.withUnsafeBytes { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        self.init(rows: rows, cols: cols, format: .f32, base: UnsafeRawPointer(buffer.pointer), owner: buffer)
    }

    public static func scaleRows(_ rows: Int) -> Int { (rows + blockSize - 1) / blockSize }
    public static func scaleCols(_ cols: Int) -> Int { (cols + blockSize - 1) / blockSize }

    /// The elements, for `Parallel`'s prefetch.
    var region: Region { Region(start: base, bytes: rows * cols * elementSize) }
    /// Bytes of weights read by one full pass over the matrix (elements plus scales).
    public var byteCount: Int { rows * cols * elementSize + scales.count * 4 }

    /// The bytes `n` rows of this format and width take, block scales included.
    public func byteCount(rows n: Int) -> Int {
        n * cols * elementSize + (format == .fp8 ? (n + Matrix.blockSize - 1) / Matrix.blockSize * Matrix.scaleCols(cols) * 4 : 0)
    }

    /// The block scale of element `(r, c)`, as stored in the checkpoint.
    public func blockScale(row r: Int, col c: Int) -> Float {
        scales[(r / Matrix.blockSize) * Matrix.scaleCols(cols) + c / Matrix.blockSize] / 256
    }

    /// Element `(r, c)` as fp32 (slow; for naive kernels and tests).
    public func element(_ r: Int, _ c: Int) -> Float {
        let i = r * cols + c
        switch format {
        case .fp8: return FP8.decode(base.load(fromByteOffset: i, as: UInt8.self)) * blockScale(row: r, col: c)
        case .bf16: return BF16.decode(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
        case .f16: return F16.decode(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
        case .f32: return base.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
        }
    }

    /// Row `r` as fp32 values.
    public func row(_ r: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: cols) { buf, n in
            view.decodeRow(r, into: buf.baseAddress!)
            n = cols
        }
    }

    /// Bytes per element.
    var elementSize: Int { format.elementSize }

    /// The transpose `[cols, rows]` in the same format (a copy); FP8 block scales move with their
    /// blocks, block (i, j) becoming block (j, i).
    public func transposed() -> Matrix {
        let size = elementSize, out = OwnedBuffer(bytes: rows * cols * size)
        for r in 0..<rows {
            for c in 0..<cols { (out.pointer + (c * rows + r) * size).copyMemory(from: base + (r * cols + c) * size, byteCount: size) }
        }
        let (scaleRows, scaleCols) = (Matrix.scaleRows(rows), Matrix.scaleCols(cols))
        let blockScales = format != .fp8 ? [] : (0..<(scaleCols * scaleRows)).map { i in scales[(i % scaleRows) * scaleCols + i / scaleRows] / 256 }
        return Matrix(rows: cols, cols: rows, format: format, base: UnsafeRawPointer(out.pointer), blockScales: blockScales, owner: out)
    }

    /// `parts` one above the other (a copy): one format and column count; FP8 parts but the last
    /// have whole 128-row blocks.
    public static func stacked(_ parts: [Matrix]) -> Matrix {
        let first = parts[0], size = first.elementSize
        precondition(parts.allSatisfy { $0.format == first.format && $0.cols == first.cols })
        precondition(first.format != .fp8 || parts.dropLast().allSatisfy { $0.rows % blockSize == 0 }, "FP8 parts are stacked on 128-row blocks")
        let rows = parts.reduce(0) { $0 + $1.rows }, out = OwnedBuffer(bytes: rows * first.cols * size)
        var offset = 0
        for part in parts {
            (out.pointer + offset).copyMemory(from: part.base, byteCount: part.rows * part.cols * size)
            offset += part.rows * part.cols * size
        }
        return Matrix(rows: rows, cols: first.cols, format: first.format, base: UnsafeRawPointer(out.pointer),
                      blockScales: parts.flatMap { $0.scales.map { $0 / 256 } }, owner: out)
    }

    /// This matrix re-encoded as FP8 e4m3 with one scale per 128×128 block (the block's largest
    /// magnitude / 448), the layout of DeepSeek's FP8 checkpoints: half the bytes of bf16.
    public func quantizedFP8() -> Matrix {
        let codes = OwnedBuffer(bytes: rows * cols), scaleCols = Matrix.scaleCols(cols)
        var blockScales = [Float](repeating: 1, count: Matrix.scaleRows(rows) * scaleCols)
        blockScales.withUnsafeMutableBufferPointer { scales in
            Parallel.forEach(Matrix.scaleRows(rows)) { blockRow in
                let band = (blockRow * Matrix.blockSize)..<Swift.min(rows, (blockRow + 1) * Matrix.blockSize)
                let values = UnsafeMutablePointer<Float>.allocate(capacity: band.count * cols)  // [band, cols]
                defer { values.deallocate() }
                for r in band { view.decodeRow(r, into: values + (r - band.lowerBound) * cols) }
                let s = scales.baseAddress! + blockRow * scaleCols
                var amax = [Float](repeating: 0, count: scaleCols)
                for i in 0..<(band.count * cols) { amax[i % cols / Matrix.blockSize] = Swift.max(amax[i % cols / Matrix.blockSize], abs(values[i])) }
                for b in 0..<scaleCols where amax[b] > 0 { s[b] = amax[b] / FP8.max }
                let out = codes.pointer.assumingMemoryBound(to: UInt8.self) + band.lowerBound * cols
                for i in 0..<(band.count * cols) { out[i] = FP8.encode(values[i] / s[i % cols / Matrix.blockSize]) }
            }
        }
        return Matrix(rows: rows, cols: cols, format: .fp8, base: UnsafeRawPointer(codes.pointer), blockScales: blockScales, owner: codes)
    }

    /// The whole matrix as fp32 values (`[rows, cols]`).
    public func dequantized() -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * cols) { buf, n in
            for r in 0..<rows { view.decodeRow(r, into: buf.baseAddress! + r * cols) }
            n = rows * cols
        }
    }
}

/// A matrix's shape, elements and block scales as plain pointers, valid while its `Matrix` lives:
/// what the kernels' parallel tasks read, since copying a `Matrix` retains its owner — one reference
/// count that every worker would update at once, on every task.
struct MatrixView {
    let rows: Int, cols: Int
    let format: WeightFormat
    let base: UnsafeRawPointer
    let scales: UnsafePointer<Float>
    /// FP8: per group of four rows (rows `4g..<4g + 4`), `chunkWords(cols)` words with bit `q` set
    /// where a row of the group has a zero or subnormal code in columns `64q..<64q + 64` (`mapZeroChunks`).
    let zeroChunks: UnsafePointer<UInt64>

    /// Words per group of rows in `zeroChunks`: a bit for each whole 64 columns.
    static func chunkWords(_ cols: Int) -> Int { Swift.max(1, (cols / 64 + 63) / 64) }
}

/// A heap buffer that frees itself; the owner of matrices built in memory.
public final class OwnedBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public init(bytes: Int) { pointer = .allocate(byteCount: Swift.max(bytes, 1), alignment: 64) }
    deinit { pointer.deallocate() }
}
