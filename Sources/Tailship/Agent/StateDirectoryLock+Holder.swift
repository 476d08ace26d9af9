#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

extension StateDirectoryLock {
    /// Whether a `tailship run` holds a state directory, as `tailship status` tells.
    public enum Holder: Sendable, Equatable {
        /// The lock is held; `pid` as the agent wrote it into the lock file (nil if unreadable).
        case running(pid: Int32?)
        case notRunning
        /// The lock could not be checked; why.
        case unknown(String)
    }

    /// Looks for the agent holding `stateDir`'s lock in `/proc/locks` (the kernel's list of held
    /// locks: the lock file's device and inode). Taking the lock to find out, even for an
    /// instant, could make an agent starting at that moment refuse to run: this only looks.
    public static func holder(stateDir: String, locksTable: String = "/proc/locks") -> Holder {
        let path = stateDir.hasSuffix("/") ? stateDir + fileName : stateDir + "/" + fileName
        let status: FileStatus
        do {
            status = try FileStatus.of(path: path)
        } catch {
            return error.errno.rawValue == ENOENT ? .notRunning : .unknown("\(error)")
        }
        guard let table = try? String(contentsOfFile: locksTable, encoding: .utf8) else {
            return .unknown("\(locksTable) cannot be read")
        }
        // Lines like `1: FLOCK  ADVISORY  WRITE 28576 fe:00:16220724 0 EOF`; a waiter's line has
        // `->` after the number. The device is major:minor in hex, the inode in decimal.
        let major = ((status.device >> 8) & 0xfff) | ((status.device >> 32) & ~UInt64(0xfff))
        let minor = (status.device & 0xff) | ((status.device >> 12) & ~UInt64(0xff))
        let wanted = String(major, radix: 16) + ":" + String(minor, radix: 16) + ":" + String(status.inode)
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 6, fields[1] == "FLOCK", fields[3] == "WRITE" else { continue }
            let id = fields[5].split(separator: ":").map(String.init)
            guard id.count == 3, let lineMajor = UInt64(id[0], radix: 16), let lineMinor = UInt64(id[1], radix: 16),
                String(lineMajor, radix: 16) + ":" + String(lineMinor, radix: 16) + ":" + id[2] == wanted
            else { continue }
            // The pid, read never through a link and bounded (`StateFile`).
            let text = ((try? StateFile.read(path, limit: 64)) ?? nil).map { String(decoding: $0, as: UTF8.self) }?
                .trimmingWhitespace()
            return .running(pid: text.flatMap { Int32($0) })
        }
        return .notRunning
    }
}
