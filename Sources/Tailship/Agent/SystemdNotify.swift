#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// systemd's service notification protocol (`sd_notify(3)`), spoken directly: one datagram per
/// message to the unix socket `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace).
/// With `Type=notify` the unit is started once `READY=1` arrives, reloads are reported with
/// `RELOADING=1` … `READY=1`, a stop with `STOPPING=1`, and with `WatchdogSec=` systemd restarts
/// the agent when `WATCHDOG=1` pings stop. Without `$NOTIFY_SOCKET` (not under systemd) every
/// call does nothing.
public struct SystemdNotifier: Sendable {
    private let socketPath: String?
    /// How often to ping, half of `$WATCHDOG_USEC` (when the watchdog is meant for this pid).
    public let watchdogIntervalMs: Int?

    public init(environment: [String: String]) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let forUs = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if forUs, let usec = environment["WATCHDOG_USEC"].flatMap(Int.init), usec > 0 {
            watchdogIntervalMs = max(usec / 2000, 1)
        } else {
            watchdogIntervalMs = nil
        }
    }

    public var isActive: Bool { socketPath != nil }

    /// Sends `message` (`KEY=value` lines); false when it could not be sent (logged by the
    /// caller at most; systemd then simply does not hear it).
    @discardableResult
    public func send(_ message: String) -> Bool {
        guard let socketPath else { return true }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }  // the abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // A path needs its terminating NUL; an abstract name (leading NUL) may fill the field.
        guard path.count < capacity || (path.first == 0 && path.count == capacity) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                sendto(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL), sockaddrPointer, length)
            }
        }
        return sent == bytes.count
    }

    /// `RELOADING=1` with the monotonic time systemd 253 and later expect beside it.
    public func reloading() {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        send("RELOADING=1\nMONOTONIC_USEC=\(Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)")
    }
}
