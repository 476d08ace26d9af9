#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a small file (the configuration, a secret) could not be read; the text is `strerror`'s.
struct FileReadError: Error, Sendable, Equatable {
    var reason: String
}

/// Reads small whole files with POSIX calls so a failure reports errno's reason
/// ("No such file or directory", "Permission denied") rather than a Foundation error dump.
enum ConfigFileReader {
    /// The whole content of `path`, refusing files larger than `limit` bytes.
    static func readAll(_ path: String, limit: Int) throws(FileReadError) -> [UInt8] {
        try readAll(path, limit: limit) { _, _ in nil }
    }

    /// The whole content of `path`, unless `refusal` finds a reason in the open file (its
    /// descriptor and `fstat`: the very file read, not whatever the path names a moment later).
    static func readAll(_ path: String, limit: Int, refusal: (Int32, stat) -> String?) throws(FileReadError)
        -> [UInt8]
    {
        let fd: Int32
        do throws(SyscallError) {
            fd = try syscallRetrying("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
        } catch {
            throw FileReadError(reason: error.errno.description)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileReadError(reason: Errno.current.description) }
        if let reason = refusal(fd, info) { throw FileReadError(reason: reason) }
        let content: [UInt8]
        do throws(SyscallError) {
            var bytes: [UInt8] = []
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16)
            defer { chunk.deallocate() }
            while bytes.count <= limit {
                let count = try syscallRetrying("read", path: path) { read(fd, chunk.baseAddress, chunk.count) }
                if count == 0 { break }
                bytes.append(contentsOf: chunk[0..<count])
            }
            content = bytes
        } catch {
            throw FileReadError(reason: error.errno.description)
        }
        if content.count > limit { throw FileReadError(reason: "larger than \(limit) bytes") }
        return content
    }
}
