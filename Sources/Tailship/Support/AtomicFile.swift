import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Crash-safe replacement of a small file: tmp, fsync, rename, fsync the directory.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws(CheckpointError) {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(tmp, "open") }
        var ok = data.withUnsafeBytes { raw -> Bool in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                done += n
            }
            return true
        }
        if ok { ok = fsync(fd) == 0 }
        let savedErrno = errno
        close(fd)
        guard ok else {
            errno = savedErrno
            throw failure(tmp, "write")
        }
        guard rename(tmp, path) == 0 else { throw failure(path, "rename") }
        // The rename is durable only once the directory entry is.
        let dir = (path as NSString).deletingLastPathComponent
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// `mkdir -p`, with the system's reason when it fails (Foundation's message says only
    /// "the file doesn't exist", which does not tell an operator what to fix).
    static func createDirectory(_ path: String) throws(CheckpointError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0, errno != EEXIST {
                throw CheckpointError(path: current, message: "cannot create state directory: \(String(cString: strerror(errno)))")
            }
        }
    }

    private static func failure(_ path: String, _ op: String) -> CheckpointError {
        CheckpointError(path: path, message: "\(op) failed: \(String(cString: strerror(errno)))")
    }
}
