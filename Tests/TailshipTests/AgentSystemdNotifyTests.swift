import Foundation
import Testing

@testable import Tailship

#if canImport(Glibc)
    import Glibc
#endif

/// `SystemdNotifier`'s reading of the environment systemd sets, and a message into an abstract
/// socket (`@name`).
@Suite struct AgentSystemdNotifyTests {
    @Test func theWatchdogIsPingedAtHalfItsIntervalOnlyWhenMeantForThisProcess() {
        #expect(!SystemdNotifier(environment: [:]).isActive)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x"]).watchdogIntervalMs == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"]).watchdogIntervalMs == 15_000)
        let mine = ["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "\(getpid())"]
        #expect(SystemdNotifier(environment: mine).watchdogIntervalMs == 2_000)
        let other = ["WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "\(getpid() + 1)"]
        #expect(SystemdNotifier(environment: other).watchdogIntervalMs == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "0"]).watchdogIntervalMs == nil)
        // Without a socket nothing is sent and nothing fails.
        #expect(SystemdNotifier(environment: [:]).send("READY=1"))
    }

    @Test func anAbstractSocketReceivesTheMessage() throws {
        let name = "tailship-notify-test-\(getpid())"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = [UInt8(0)] + Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        try #require(bound == 0)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + name]).send("READY=1\nSTATUS=running"))
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        #expect(n > 0 && String(decoding: buffer[..<max(n, 0)], as: UTF8.self) == "READY=1\nSTATUS=running")
    }
}
