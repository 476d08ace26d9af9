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
        let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw FileReadError(reason: errnoText()) }
        defer { close(fd) }
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                retryingEINTR { read(fd, buffer.baseAddress, buffer.count) }
            }
            if count < 0 { throw FileReadError(reason: errnoText()) }
            if count == 0 { return content }
            content.append(contentsOf: chunk[0..<count])
            if content.count > limit { throw FileReadError(reason: "larger than \(limit) bytes") }
        }
    }

    private static func retryingEINTR<T: BinaryInteger>(_ call: () -> T) -> T {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
