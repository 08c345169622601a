import Foundation
import Kernels

/// One tensor's entry in a safetensors header.
public struct TensorInfo: Sendable {
    public let name: String
    public let dtype: String
    public let shape: [Int]
    /// Byte offset of the data inside the file.
    public let offset: Int
    public let byteCount: Int
    /// The file that holds it.
    public let file: MappedFile
}

/// A memory-mapped `.safetensors` file: an 8-byte little-endian header length, a JSON header
/// (`name → {dtype, shape, data_offsets}`), then the raw little-endian data.
public struct SafetensorsFile {
    public static let elementSizes = ["F8_E4M3": 1, "BF16": 2, "F16": 2, "F32": 4, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]
    public let file: MappedFile
    public let tensors: [String: TensorInfo]

    /// Maps `path` and checks its header: every tensor's dtype, shape and byte range.
    public init(path: String) throws {
        do { file = try MappedFile(path: path) } catch { throw ModelError(error.description) }
        guard file.size >= 8 else { throw ModelError("\(path) is truncated: \(file.size) bytes, not even a header length") }
        let headerLength = Int(file.base.loadUnaligned(as: UInt64.self).littleEndian)
        guard headerLength > 1, 8 + headerLength <= file.size else {
            throw ModelError("\(path) is truncated or not a safetensors file: header of \(headerLength) bytes in a \(file.size)-byte file")
        }
        let headerData = Data(bytes: file.base + 8, count: headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw ModelError("\(path): the safetensors header is not valid JSON")
        }
        let dataStart = 8 + headerLength
        var tensors = [String: TensorInfo]()
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw ModelError("\(path): header entry for tensor \(name) is malformed (needs dtype, shape, data_offsets)") }
            guard let size = SafetensorsFile.elementSizes[dtype] else { throw ModelError("\(path): tensor \(name) has unknown dtype \(dtype)") }
            let expected = shape.reduce(1, *) * size
            guard offsets[0] >= 0, offsets[1] - offsets[0] == expected else {
                throw ModelError("\(path): tensor \(name) \(dtype)\(shape) needs \(expected) bytes but its data_offsets are \(offsets)")
            }
            guard dataStart + offsets[1] <= file.size else {
                throw ModelError("\(path) is truncated: tensor \(name) ends at byte \(dataStart + offsets[1]) of a \(file.size)-byte file")
            }
            tensors[name] = TensorInfo(name: name, dtype: dtype, shape: shape, offset: dataStart + offsets[0], byteCount: expected, file: file)
        }
        self.tensors = tensors
    }
}

/// All tensors of a checkpoint directory: `model.safetensors`, or the shards listed by
/// `model.safetensors.index.json`, or every `*.safetensors` file.
public func readCheckpointTensors(directory: String) throws -> [String: TensorInfo] {
    let fm = FileManager.default
    let indexPath = directory + "/model.safetensors.index.json"
    var files: [String]
    if let data = fm.contents(atPath: indexPath) {
        guard let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = index["weight_map"] as? [String: String]
        else { throw ModelError("\(indexPath): expected a JSON object with a \"weight_map\" of tensor name → shard file") }
        files = Array(Set(map.values)).sorted()
        var tensors = [String: TensorInfo]()
        for f in files {
            let shard = try SafetensorsFile(path: directory + "/" + f)
            tensors.merge(shard.tensors) { a, _ in a }
        }
        for (name, f) in map where tensors[name] == nil || tensors[name]!.file.path != directory + "/" + f {
            throw ModelError("\(indexPath) places tensor \(name) in \(f), but that shard does not contain it")
        }
        return tensors
    }
    if fm.fileExists(atPath: directory + "/model.safetensors") {
        files = ["model.safetensors"]
    } else {
        files = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".safetensors") }.sorted()
    }
    guard !files.isEmpty else { throw ModelError("\(directory): no model.safetensors, model.safetensors.index.json or *.safetensors files") }
    var tensors = [String: TensorInfo]()
    for f in files {
        for (name, info) in try SafetensorsFile(path: directory + "/" + f).tensors {
            if let other = tensors[name] { throw ModelError("tensor \(name) appears in both \(other.file.path) and \(info.file.path)") }
            tensors[name] = info
        }
    }
    return tensors
}
