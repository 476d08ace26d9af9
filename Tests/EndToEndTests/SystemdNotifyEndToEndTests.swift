import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A datagram socket standing in for systemd's `$NOTIFY_SOCKET`: every message received, in order.
final class NotifySocket: Sendable {
    let path: String
    private let fd: Int32
    private let received = Mutex<[String]>([])
    private let stopping = Atomic<Bool>(false)

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0, "bind \(path): \(String(cString: strerror(errno)))")
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let descriptor = fd
        Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !stopping.load(ordering: .acquiring) {
                let n = recv(descriptor, &buffer, buffer.count, 0)
                if n > 0 { received.withLock { $0.append(String(decoding: buffer[..<n], as: UTF8.self)) } }
            }
        }.start()
    }

    deinit {
        stopping.store(true, ordering: .releasing)
        usleep(300_000)
        close(fd)
    }

    var messages: [String] { received.withLock { $0 } }
}

/// `Type=notify` as systemd runs it: `READY=1` once started, `RELOADING=1` then `READY=1` around
/// each reload (refused or not), `STOPPING=1` on SIGTERM, and `WATCHDOG=1` pings at half of
/// `$WATCHDOG_USEC` while the pipeline's threads go round.
@Suite(.serialized) struct SystemdNotifyEndToEndTests {
    @Test func readyReloadingStoppingInOrderWithWatchdogPings() throws {
        let dir = try makeTempDir("e2e-notify")
        let server = try FaultEndToEndTests.server()
        let configPath = dir + "/agent.yaml"
        let config = FaultEndToEndTests.config(dir: dir, port: server.port, startAt: "")
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        try append("", to: dir + "/logs/app.log")
        let notify = try NotifySocket(path: dir + "/notify.sock")
        let agent = try AgentProcess(
            config: configPath,
            env: ["E2E_SECRET": FaultEndToEndTests.secret, "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000"],
            logPath: dir + "/agent.log")
        let states = { notify.messages.filter { !$0.hasPrefix("WATCHDOG=1") }.map { $0.split(separator: "\n")[0] } }
        #expect(eventually(timeout: 10) { states() == ["READY=1"] }, "\(notify.messages)")
        #expect(notify.messages.first?.contains("MAINPID=\(agent.process.processIdentifier)") == true)
        usleep(3_500_000)
        let pings = notify.messages.filter { $0 == "WATCHDOG=1" }.count
        #expect(pings >= 2 && pings <= 5, "\(pings) pings in 3.5 s at a 1 s interval")

        try "sources: [".write(toFile: configPath, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        #expect(eventually(timeout: 10) { states().count == 3 }, "\(notify.messages)")
        #expect(notify.messages.contains { $0.contains("STATUS=reload refused") })
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        #expect(eventually(timeout: 20) { states().count == 5 }, "\(notify.messages)")
        #expect(agent.terminate() == 0)
        #expect(eventually(timeout: 5) { states().count == 6 })
        #expect(states() == ["READY=1", "RELOADING=1", "READY=1", "RELOADING=1", "READY=1", "STOPPING=1"])
        #expect(notify.messages.filter { $0.hasPrefix("RELOADING=1") }.allSatisfy { $0.contains("MONOTONIC_USEC=") })
    }
}
