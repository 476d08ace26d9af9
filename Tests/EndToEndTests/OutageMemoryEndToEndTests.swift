import Foundation
import Testing

/// Memory through an outage whatever the line length (PRODUCT.md, Delivery: "Memory is bounded
/// in bytes whatever the line length or the outage"): while the API answers 503, a writer
/// appends long lines whose events are long too, and the release binary stays under 64 MiB.
@Suite(.serialized) struct OutageMemoryEndToEndTests {
    /// Memory is a property of the binary users install: the release build with the static
    /// Swift runtime, which scripts/test.sh builds and names in `TAILSHIP_RELEASE_BIN`.
    static let releaseBinary = ProcessInfo.processInfo.environment["TAILSHIP_RELEASE_BIN"]

    static let limitKiB = 64 * 1024

    /// Default settings but for fast flushes and retries. The rule captures half of each line's
    /// padding into a property, so events are about half as long as their lines.
    static func config(dir: String, port: Int, lineBytes: Int) -> String {
        """
        state_dir: \(dir)/state
        destination:
          url: http://127.0.0.1:\(port)
          project_id: "42"
          auth: { username: e2e.sa, secret_env: E2E_SECRET }
          batch: { flush_interval: 100ms }
          retry: { initial_backoff: 100ms, max_backoff: 1s }
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            rules:
              - name: order
                match: '^(?<ts>\\d+) order seq=(?<seq>\\d+) user=(?<user>\\w+) pad=(?<pad>x{0,\(lineBytes / 2)})'
                event: Order Placed
                distinct_id: "{{user}}"
                time: { field: ts, format: unix_ms }
                properties:
                  seq: { value: "{{seq}}", type: int }
                  pad: "{{pad}}"
        """
    }

    /// Line `seq`, `lineBytes` long with its newline: an order line with a `pad=xxx…` tail.
    static func line(_ seq: Int, lineBytes: Int) -> String {
        let head = "\(FaultEndToEndTests.pastMs + Int64(seq)) order seq=\(seq) user=u\(seq % 5) pad="
        return head + String(repeating: "x", count: lineBytes - head.utf8.count - 1) + "\n"
    }

    @Test(
        .enabled(
            if: releaseBinary != nil,
            "TAILSHIP_RELEASE_BIN is not set: it names the release binary this test measures (scripts/test.sh builds it)"
        ),
        arguments: [8 * 1024, 64 * 1024])
    func memoryStaysUnder64MiBThroughAnOutageWhateverTheLineLength(lineBytes: Int) throws {
        let release = try #require(Self.releaseBinary)
        let dir = try makeTempDir("e2e-outage-long-lines")
        let server = try FaultEndToEndTests.server()
        defer { server.stop() }
        let configPath = dir + "/agent.yaml"
        try Self.config(dir: dir, port: server.port, lineBytes: lineBytes)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        try server.setConfig(["outage": true])
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log",
            binary: URL(fileURLWithPath: release))
        let pid = agent.process.processIdentifier
        #expect(eventually(timeout: 10) { agent.log.contains("agent.started") }, "log:\n\(agent.log)")
        usleep(300_000)

        // About 2.5 MiB/s for 15 s, into a file that appears while the agent runs (so it is read
        // from its first byte), with VmRSS sampled every 100 ms.
        let log = dir + "/logs/app.log"
        let perTick = max(1, 256 * 1024 / lineBytes)
        var written = 0
        var peakKiB = 0
        let started = Date()
        while Date().timeIntervalSince(started) < 15 {
            try append((written..<written + perTick).map { Self.line($0, lineBytes: lineBytes) }.joined(), to: log)
            written += perTick
            peakKiB = max(peakKiB, ChaosEndToEndTests.rssKiB(pid))
            usleep(100_000)
        }
        let bytes = written * lineBytes
        #expect(bytes >= 30_000_000, "the writer wrote only \(bytes) bytes")
        #expect(try server.stats()["events_accepted"] as? Int ?? 0 == 0, "the API was down")
        #expect(try server.outageAnswers() >= 1, "the agent never tried the API; log:\n\(agent.log.suffix(3000))")

        try server.setConfig(["outage": false])
        let recovered = Date()
        var catchUpPeakKiB = 0
        var caughtUp = false
        while Date().timeIntervalSince(recovered) < 90 {
            catchUpPeakKiB = max(catchUpPeakKiB, ChaosEndToEndTests.rssKiB(pid))
            if try server.stats()["events_accepted"] as? Int ?? 0 >= written {
                caughtUp = true
                break
            }
            usleep(100_000)
        }
        print(
            "outage with \(lineBytes / 1024) KiB lines: \(written) lines, \(bytes / 1_048_576) MiB written in 15 s; "
                + "peak RSS \(peakKiB / 1024) MiB (\(peakKiB) KiB) during the outage, \(catchUpPeakKiB / 1024) MiB "
                + "catching up; caught up in \(String(format: "%.1f", Date().timeIntervalSince(recovered))) s")
        #expect(caughtUp, "agent log tail:\n\(agent.log.suffix(3000))")
        usleep(600_000)
        #expect(agent.terminate() == 0)
        #expect(peakKiB > 0, "VmRSS was never read")
        #expect(
            peakKiB < Self.limitKiB,
            "peak RSS \(peakKiB) KiB during the outage with \(lineBytes)-byte lines, over \(Self.limitKiB) KiB")
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<written)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
