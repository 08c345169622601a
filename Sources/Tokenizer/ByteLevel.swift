/// GPT-2's reversible mapping between bytes and printable characters, in which byte-level BPE
/// vocabularies spell their tokens (byte 0x20, a space, is written "Ġ").
enum ByteLevel {
    /// The character that stands for each byte value.
    static let scalars: [Unicode.Scalar] = {
        var result = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
                result[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                result[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return result
    }()

    private static let byteOf: [Unicode.Scalar: UInt8] = {
        var result: [Unicode.Scalar: UInt8] = [:]
        for (byte, scalar) in scalars.enumerated() { result[scalar] = UInt8(byte) }
        return result
    }()

    /// The bytes a vocabulary token spells, or nil when a character of it is outside the mapping.
    static func mappedBytes(_ token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = byteOf[scalar] else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// The bytes `tokenizers`' ByteLevel decoder produces for a token: the mapped bytes, or the
    /// token's own UTF-8 when it has a character outside the mapping (e.g. `<｜User｜>`).
    static func decodedBytes(_ token: String) -> [UInt8] {
        mappedBytes(token) ?? Array(token.utf8)
    }
}
