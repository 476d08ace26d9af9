import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Crash-safe replacement of a small file: tmp, fsync, rename, fsync the directory.
enum AtomicFile {
    static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws(CheckpointError) {
        let tmp = path + ".tmp"
        do throws(SyscallError) {
            let file = try AppendFile(path: tmp, mode: mode, truncating: true)
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
    /// "the file doesn't exist", which does not tell an operator what to fix).
    static func createDirectory(_ path: String) throws(CheckpointError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0, errno != EEXIST {
                throw CheckpointError(
                    path: current, message: "cannot create state directory: \(String(cString: strerror(errno)))")
            }
        }
    }
}
