import Foundation

/// Streams tensors into a `.safetensors` file: the header first, then each tensor's bytes as
/// its producer writes them, so multi-gigabyte checkpoints never sit in memory.
struct SafetensorsWriter {
    struct Entry {
        let name: String, dtype: String, shape: [Int]
        /// Writes exactly the tensor's bytes, in pieces, to the sink.
        let produce: (_ sink: (Data) -> Void) -> Void
        var byteCount: Int { shape.reduce(1, *) * SafetensorsFile.elementSizes[dtype]! }
    }

    static func write(_ entries: [Entry], to path: String) throws {
        var header = [String: Any]()
        var offset = 0
        for e in entries {
            header[e.name] = ["dtype": e.dtype, "shape": e.shape, "data_offsets": [offset, offset + e.byteCount]]
            offset += e.byteCount
        }
        header["__metadata__"] = ["format": "pt"]
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: Array(repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path) else {
            throw ModelError("cannot create \(path)")
        }
        defer { try? out.close() }
        var length = UInt64(json.count).littleEndian
        try out.write(contentsOf: Data(bytes: &length, count: 8) + json)
        for e in entries {
            var written = 0
            var failure: Error?
            e.produce { chunk in
                written += chunk.count
                do { try out.write(contentsOf: chunk) } catch { failure = error }
            }
            if let failure { throw ModelError("writing \(path): \(failure)") }
            precondition(written == e.byteCount, "tensor \(e.name): produced \(written) bytes, expected \(e.byteCount)")
        }
    }
}
