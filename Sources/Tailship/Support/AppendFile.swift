#if canImport(Glibc)
    import Glibc
#endif

/// A POSIX failure on a named file: the call, errno and path, for a message that says where.
public struct FileError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var errno: Int32
    public var path: String

    public var description: String { "\(call) \(path): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// A file opened for appending (`O_APPEND`), with writes that retry EINTR and short writes
/// and an explicit `fsync`. The descriptor is closed in deinit. Used for dead letters, the
/// `file` / `stdout` destinations and the temporary file of an atomic replace.
final class AppendFile {
    let path: String
    private let fd: Int32
    private let ownsDescriptor: Bool

    /// Opens (creating with mode 0600) `path` for appending; `truncating` empties it first.
    init(path: String, mode: mode_t = 0o600, truncating: Bool = false) throws(FileError) {
        let flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | (truncating ? O_TRUNC : 0)
        let fd = Self.retryingEINTR { open(path, flags, mode) }
        guard fd >= 0 else { throw FileError(call: "open", errno: errno, path: path) }
        self.path = path
        self.fd = fd
        ownsDescriptor = true
    }

    /// Wraps an inherited descriptor (standard output) without taking ownership.
    init(descriptor: Int32, name: String) {
        path = name
        fd = descriptor
        ownsDescriptor = false
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    /// Writes all of `bytes` (`write(2)` until done).
    func write(_ bytes: [UInt8]) throws(FileError) {
        var result: FileError?
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = Self.retryingEINTR {
                    Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
                }
                if n < 0 {
                    result = FileError(call: "write", errno: errno, path: path)
                    return
                }
                done += n
            }
        }
        if let result { throw result }
    }

    /// `fsync(2)`: the bytes are on disk when this returns. EINVAL (a pipe or terminal on
    /// standard output) is not an error: there is nothing to sync.
    func sync() throws(FileError) {
        let rc = Self.retryingEINTR { fsync(fd) }
        if rc != 0 && errno != EINVAL && errno != EROFS {
            throw FileError(call: "fsync", errno: errno, path: path)
        }
    }

    /// fsyncs the directory holding `path`: a created or renamed entry is durable only then.
    static func syncDirectory(of path: String) throws(FileError) {
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) }.flatMap { $0.isEmpty ? "/" : $0 } ?? "."
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(call: "open", errno: errno, path: dir) }
        defer { close(fd) }
        if fsync(fd) != 0 && errno != EINVAL { throw FileError(call: "fsync", errno: errno, path: dir) }
    }

    private static func retryingEINTR<T: SignedInteger>(_ call: () -> T) -> T {
        while true {
            let rc = call()
            if rc >= 0 || errno != EINTR { return rc }
        }
    }
}
