import Foundation
import Testing

/// Delivery while everything goes wrong at once: the API fails and resets connections at
/// random, and the agent is killed with SIGKILL at random moments.
@Suite(.serialized) struct ChaosEndToEndTests {
    @Test func killNineUnderRandomFailuresLosesNothingAndDuplicatesNothing() throws {
        let seed = UInt64(Date().timeIntervalSince1970)
        print("chaos seed \(seed)")
        var rng = SplitMix64(seed: seed)
        let dir = try makeTempDir("e2e-chaos")
        let server = try FaultEndToEndTests.server()
        try server.chaos(failRate: 0.10, resetRate: 0.05, seed: Int(seed % 1_000_000))
        let configPath = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: server.port)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let env = ["E2E_SECRET": FaultEndToEndTests.secret]
        let total = 6000
        var agent = try AgentProcess(config: configPath, env: env, logPath: dir + "/agent.log")
        var written = 0
        var kills = 0
        while written < total {
            let chunk = min(250, total - written)
            try append(FaultEndToEndTests.lines(written..<(written + chunk)), to: dir + "/logs/app.log")
            written += chunk
            usleep(UInt32(50_000 + rng.next() % 150_000))
            if written % 1000 == 0 {
                agent.kill9()
                kills += 1
                agent = try AgentProcess(config: configPath, env: env, logPath: dir + "/agent.log")
            }
        }
        let arrived = try eventually(timeout: 120) { try server.storedEvents(dedup: true).count >= total }
        #expect(arrived, "seed \(seed); agent log tail:\n\(agent.log.suffix(3000))")
        #expect(agent.terminate() == 0)
        #expect(kills >= 5)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<total)
    }

    @Test func memoryStaysBoundedThroughAnOutageAndDeliveryCatchesUp() throws {
        let dir = try makeTempDir("e2e-outage-rss")
        let server = try FaultEndToEndTests.server()
        try server.setConfig(["outage": true])
        let configPath = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: server.port)
            .replacingOccurrences(
                of: "batch: { max_events: 40, flush_interval: 100ms }",
                with: "batch: { max_events: 2000, flush_interval: 200ms }"
            )
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        // Memory is a property of the binary users install: the release build with the static
        // Swift runtime, which scripts/test.sh builds and names.
        let release = try #require(
            ProcessInfo.processInfo.environment["TAILSHIP_RELEASE_BIN"],
            "run through scripts/test.sh, which builds the release binary this test measures")
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret],
            logPath: dir + "/agent.log", binary: URL(fileURLWithPath: release))
        // A fast writer during a 20-second outage.
        let total = 200_000
        var peakKiB = 0
        var catchUpPeakKiB = 0
        let started = Date()
        var written = 0
        while Date().timeIntervalSince(started) < 20 {
            if written < total {
                let chunk = min(10_000, total - written)
                try append(FaultEndToEndTests.lines(written..<(written + chunk)), to: dir + "/logs/app.log")
                written += chunk
            }
            peakKiB = max(peakKiB, Self.rssKiB(agent.process.processIdentifier))
            usleep(100_000)
        }
        #expect(written == total)
        #expect(try server.storedEvents(dedup: true).isEmpty)
        try server.setConfig(["outage": false])
        let recovered = Date()
        var caughtUp = false
        while Date().timeIntervalSince(recovered) < 120 {
            catchUpPeakKiB = max(catchUpPeakKiB, Self.rssKiB(agent.process.processIdentifier))
            if try server.stats()["events_accepted"] as? Int ?? 0 >= total {
                caughtUp = true
                break
            }
            usleep(100_000)
        }
        let catchUp = Date().timeIntervalSince(recovered)
        print(
            "outage: peak RSS \(peakKiB / 1024) MiB during the outage, \(catchUpPeakKiB / 1024) MiB catching up; "
                + "caught up \(total) events in \(String(format: "%.1f", catchUp)) s")
        #expect(caughtUp, "agent log tail:\n\(agent.log.suffix(3000))")
        #expect(agent.terminate() == 0)
        // Issue 4's bound is for the outage itself, while the writer runs ahead of a dead API.
        #expect(peakKiB < 48 * 1024, "peak RSS \(peakKiB) KiB during the outage")
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<total)
    }

    /// Resident set size of a process, from /proc (0 once it has exited).
    static func rssKiB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}

/// A small seeded generator, so a failing chaos run can be replayed from its printed seed.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
