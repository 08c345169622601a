import Foundation

/// NumPy `.npy` files of little-endian float32 (format 1.0, C order).
public enum NPY {
    /// Writes `values` with `shape` to `path`.
    public static func write(_ values: [Float], shape: [Int], to path: String) throws {
        precondition(shape.reduce(1, *) == values.count)
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let len = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(len & 0xFF), UInt8(len >> 8)])
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Reads a float32 array and its shape from `path`.
    public static func read(_ path: String) throws -> (values: [Float], shape: [Int]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.count > 10, data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)) else {
            throw KernelError("\(path) is not a .npy file")
        }
        let major = data[6]
        let headerLen = major == 1 ? Int(data[8]) | Int(data[9]) << 8
            : Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
        let start = major == 1 ? 10 : 12
        let header = String(decoding: data[start..<(start + headerLen)], as: UTF8.self)
        guard header.contains("'<f4'"), header.contains("'fortran_order': False") else {
            throw KernelError("\(path): only little-endian float32 C-order arrays are supported, found \(header)")
        }
        let shapeText = header.split(separator: "(")[1].split(separator: ")")[0]
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let body = data[(start + headerLen)...]
        let values = body.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        guard values.count == shape.reduce(1, *) else { throw KernelError("\(path): data does not match shape \(shape)") }
        return (values, shape)
    }
}
