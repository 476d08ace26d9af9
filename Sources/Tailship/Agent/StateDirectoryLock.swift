#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// The exclusive claim of one `tailship run` on its state directory (`<state_dir>/agent.lock`,
/// `flock`, holding the owner's pid): two agents on one directory would overwrite each other's
/// checkpoints. Released when the process exits, however it exits (the kernel drops the lock
/// with the descriptor), or by `release()`. `import` does not take it: it keeps checkpoints of
/// its own and may run beside the daemon.
public final class StateDirectoryLock: @unchecked Sendable {
    // @unchecked: the descriptor is written once in init and only closed by `release`.
    public static let fileName = "agent.lock"

    public let stateDir: String
    public let path: String
    private var fd: Int32

    public struct Busy: Error, CustomStringConvertible {
        public var path: String
        public var holder: String

        public var description: String {
            "another tailship run (\(holder)) holds \(path): one agent per state_dir"
        }
    }

    /// Takes the lock (creating the directory and the lock file if need be); throws `Busy`,
    /// naming the holder's pid, when another agent has it, or `SyscallError`.
    public init(stateDir: String) throws {
        try? AtomicFile.createDirectory(stateDir)
        self.stateDir = stateDir
        path = stateDir.hasSuffix("/") ? stateDir + Self.fileName : stateDir + "/" + Self.fileName
        let path = self.path
        // Never through a link, 0600 (`StateFile`).
        fd = try StateFile.open(path, flags: O_RDWR | O_CREAT)
        let fd = self.fd
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let err = Errno.current
            defer { close(fd) }
            guard err == .wouldBlock else { throw SyscallError("flock", errno: err, path: path) }
            // The holder's pid, read from the descriptor just checked (a pid is a few bytes).
            var bytes = [UInt8](repeating: 0, count: 32)
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            let holder = String(decoding: bytes.prefix(max(0, n)), as: UTF8.self)
                .trimmingWhitespace()
            throw Busy(
                path: path, holder: holder.isEmpty || !holder.allSatisfy(\.isNumber) ? "pid unknown" : "pid \(holder)")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Gives the directory up (a reload moving to another `state_dir`).
    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }
}
