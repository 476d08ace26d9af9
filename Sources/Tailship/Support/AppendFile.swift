#if canImport(Glibc)
    import Glibc
#endif

/// A file opened for appending (`O_APPEND`), with writes that retry EINTR and short writes
/// and an explicit `fsync`. The descriptor is closed in deinit. Used for dead letters, the
/// `file` / `stdout` destinations and the temporary file of an atomic replace.
final class AppendFile {
    let path: String
    private let fd: Int32
    private let ownsDescriptor: Bool

    /// Opens (creating with `mode`) `path` for appending; `truncating` empties it first.
    init(path: String, mode: mode_t = 0o600, truncating: Bool = false) throws(SyscallError) {
        let flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | (truncating ? O_TRUNC : 0)
        fd = try syscallRetrying("open", path: path) { open(path, flags, mode) }
        self.path = path
        ownsDescriptor = true
    }

    /// Takes ownership of a descriptor opened by the caller (a state file, see `StateFile`).
    init(owning descriptor: Int32, path: String) {
        self.path = path
        fd = descriptor
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

    /// The size of the file now (`fstat`).
    func size() throws(SyscallError) -> Int {
        try StateFile.size(of: fd, path: path)
    }

    /// Writes all of `bytes` (`write(2)` until done).
    func write(_ bytes: [UInt8]) throws(SyscallError) {
        let fd = self.fd
        DurabilityTrace.record("write", path)
        var done = 0
        while done < bytes.count {
            done += try syscallRetrying("write", path: path) {
                bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            }
        }
    }

    /// `fsync(2)`: the bytes are on disk when this returns. EINVAL (a pipe or terminal on
    /// standard output) and EROFS are not errors: there is nothing to sync.
    func sync() throws(SyscallError) {
        let fd = self.fd
        DurabilityTrace.record("fsync", path)
        do {
            _ = try syscallRetrying("fsync", path: path) { fsync(fd) }
        } catch  where error.errno.rawValue == EINVAL || error.errno.rawValue == EROFS {
        }
    }

    /// fsyncs the directory holding `path`: a created or renamed entry is durable only then.
    static func syncDirectory(of path: String) throws(SyscallError) {
        let dir = PathText.parent(of: path)
        let fd = try syscallRetrying("open", path: dir) { open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        DurabilityTrace.record("fsync", dir)
        do {
            _ = try syscallRetrying("fsync", path: dir) { fsync(fd) }
        } catch  where error.errno.rawValue == EINVAL {
        }
    }
}
