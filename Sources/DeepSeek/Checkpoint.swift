import Foundation
import Kernels

/// A checkpoint directory in the Hugging Face layout: its config and its memory-mapped tensors.
/// Each tensor is checked against the config (name, dtype, shape) as the model asks for it.
public final class Checkpoint: @unchecked Sendable {
    public let directory: String
    public let config: ModelConfig
    public let tensors: [String: TensorInfo]

    /// Opens `directory`: reads config.json and maps every safetensors file (no weight bytes are read).
    public init(directory: String) throws {
        self.directory = directory
        config = try ModelConfig.load(directory: directory)
        tensors = try readCheckpointTensors(directory: directory)
    }

    private func tensor(_ name: String, _ dtypes: [String], _ shape: [Int]) throws -> TensorInfo {
        guard let t = tensors[name] else {
            throw ModelError("tensor \(name) is missing from \(directory) (expected \(dtypes.joined(separator: " or ")) \(shape))")
        }
        guard dtypes.contains(t.dtype) else {
            throw ModelError("tensor \(name) in \(t.file.path) has dtype \(t.dtype), expected \(dtypes.joined(separator: " or "))")
        }
        guard t.shape == shape else {
            throw ModelError("tensor \(name) in \(t.file.path) has shape \(t.shape), expected \(shape) from config.json")
        }
        return t
    }

    /// The `[rows, cols]` weight `NAME.weight` (F8_E4M3 with `NAME.weight_scale_inv`, BF16, F16 or F32).
    /// FP8 codes are read once here, for the matrix's map of zero and subnormal codes.
    public func matrix(_ name: String, rows: Int, cols: Int) throws -> Matrix {
        let t = try tensor(name + ".weight", ["F8_E4M3", "BF16", "F16", "F32"], [rows, cols])
        let base = t.file.base + t.offset
        switch t.dtype {
        case "F8_E4M3":
            let scales = try vector(name + ".weight_scale_inv", shape: [Matrix.scaleRows(rows), Matrix.scaleCols(cols)])
            return Matrix(rows: rows, cols: cols, format: .fp8, base: base, blockScales: scales, owner: t.file)
        case "BF16": return Matrix(rows: rows, cols: cols, format: .bf16, base: base, owner: t.file)
        case "F16": return Matrix(rows: rows, cols: cols, format: .f16, base: base, owner: t.file)
        default: return Matrix(rows: rows, cols: cols, format: .f32, base: base, owner: t.file)
        }
    }

    /// A small tensor (norm weights, biases, scales) widened to fp32.
    public func vector(_ name: String, shape: [Int]) throws -> [Float] {
        let t = try tensor(name, ["BF16", "F16", "F32"], shape)
        let n = shape.reduce(1, *), p = t.file.base + t.offset
        switch t.dtype {
        case "BF16": return (0..<n).map { BF16.decode(p.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) }
        case "F16": return (0..<n).map { F16.decode(p.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) }
        default: return (0..<n).map { p.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) }
        }
    }

    /// A 1-D tensor of `count` values.
    public func vector(_ name: String, count: Int) throws -> [Float] { try vector(name, shape: [count]) }
}
