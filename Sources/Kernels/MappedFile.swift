#if canImport(Glibc)
import Glibc
#endif

/// A whole file memory-mapped read-only; pages are read from disk only when touched.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    public let base: UnsafeRawPointer

    /// Maps `path`; the error message names the file and the reason.
    public init(path: String) throws(KernelError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw KernelError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw KernelError("cannot stat \(path): \(String(cString: strerror(errno)))") }
        self.path = path
        self.size = Int(st.st_size)
        guard size > 0 else { throw KernelError("\(path) is empty") }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw KernelError("cannot map \(path): \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(p)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }
}

/// A failure inside a kernel-level facility (files, arrays), with a message for the user.
public struct KernelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

extension MappedFile {
    /// A 64-bit FNV-1a digest of the file's bytes (taken 8 at a time): equal files, equal digests.
    public var digest: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let words = size / 8
        for i in 0..<words { hash = (hash ^ base.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) &* 0x100_0000_01b3 }
        for i in (words * 8)..<size { hash = (hash ^ UInt64(base.load(fromByteOffset: i, as: UInt8.self))) &* 0x100_0000_01b3 }
        return hash
    }
}
