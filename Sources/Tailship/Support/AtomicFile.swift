#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Crash-safe replacement of a small file: tmp, fsync, rename, fsync the directory.
enum AtomicFile {
    /// The temporary file is created anew (`O_CREAT|O_EXCL`, never through a link, 0600)
    /// after removing any leftover: a link planted as `<name>.tmp` is unlinked, not written
    /// through, and the rename replaces `<name>` itself, whatever it was.
    static func write(_ data: Data, to path: String) throws(CheckpointError) {
        let tmp = path + ".tmp"
        do throws(SyscallError) {
            try StateFile.removeIfPresent(tmp)
            let fd = try StateFile.open(tmp, flags: O_WRONLY | O_CREAT | O_EXCL)
            let file = AppendFile(owning: fd, path: tmp)
            try file.write([UInt8](data))
            try file.sync()
            DurabilityTrace.record("rename", tmp)
            _ = try syscallRetrying("rename", path: path) { rename(tmp, path) }
            try AppendFile.syncDirectory(of: path)
        } catch {
            throw CheckpointError(path: error.path ?? path, message: "\(error.call) failed: \(error.errno)")
        }
    }

    /// `mkdir -p`, with the system's reason when it fails (Foundation's message says only
    /// "the file doesn't exist", which does not tell an operator what to fix). The directory
    /// itself is created 0700 (it holds the checkpoints and dead letters, which are raw log
    /// lines); parents it has to create, 0755, like `mkdir -p -m 700`.
    static func createDirectory(_ path: String) throws(CheckpointError) {
        var current = path.hasPrefix("/") ? "" : "."
        let components = path.split(separator: "/")
        for (index, component) in components.enumerated() {
            current += "/" + component
            let mode: mode_t = index == components.count - 1 ? StateFile.directoryMode : 0o755
            if mkdir(current, mode) != 0, errno != EEXIST {
                throw CheckpointError(
                    path: current, message: "cannot create state directory: \(String(cString: strerror(errno)))")
            }
        }
    }
}
