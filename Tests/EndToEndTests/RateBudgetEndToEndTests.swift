import Foundation
import Testing

/// The rate budget (`max_events_per_second`) and the in-flight limit that follows 429s
/// (docs/delivery.md, "Rate budget"), for `run` and `import`, against the local ingestion server.
@Suite(.serialized) struct RateBudgetEndToEndTests {
    /// The default source (`start_at: end`), four requests in flight, batches of `maxEvents`.
    static func config(dir: String, port: Int, destination extra: String, maxEvents: Int) -> String {
        """
        state_dir: \(dir)/state
        destination:
          url: http://127.0.0.1:\(port)
          project_id: "42"
          auth: { username: e2e.sa, secret_env: E2E_SECRET }
          max_in_flight: 4
          batch: { max_events: \(maxEvents), flush_interval: 100ms }
          retry: { initial_backoff: 100ms, max_backoff: 1s }
        \(extra)
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            rules:
              \(FaultEndToEndTests.orderRule)
        """
    }

    /// The accepted `/import` requests as (seconds since the first, events), in arrival order.
    static func acceptedRequests(_ server: IngestServer) throws -> [(seconds: Double, events: Int)] {
        let accepted = try server.requests().filter {
            $0["path"] as? String == "/import" && $0["status"] as? Int == 200
        }
        let times = try accepted.map { try #require($0["time_ms"] as? Int) }
        guard let first = times.min() else { return [] }
        return try zip(accepted, times).map { request, time in
            (Double(time - first) / 1000, try #require(request["events"] as? Int))
        }
    }

    /// By each request's arrival, at most `burst` + `rate` × t events arrived (one batch of slack
    /// for the network's jitter), and (`paced`: all of them were sent in one go) the last arrived
    /// no sooner than the rate allows, nor much later.
    static func expectWithinBudget(
        _ requests: [(seconds: Double, events: Int)], rate: Int, burst: Int, batch: Int, total: Int,
        paced: Bool = true
    ) {
        var arrived = 0
        for request in requests {
            arrived += request.events
            let allowed = Double(burst + batch) + Double(rate) * request.seconds
            #expect(Double(arrived) <= allowed, "\(arrived) events by \(request.seconds) s; allowed \(allowed)")
        }
        #expect(arrived == total, "every event sent once: \(arrived)")
        guard paced else { return }
        let least = Double(total - burst - batch) / Double(rate)
        let took = requests.last?.seconds ?? 0
        #expect(took >= least, "the rate is kept: \(took) s for \(total) events, at least \(least) s")
        #expect(took < least + 4, "and used: \(took) s")
    }

    /// `run`, 1,000 lines written at once into a file that appears while the agent runs, at
    /// 200 events/s in batches of 50: the first second's worth goes at once, the other 800 over
    /// 4 s; every event arrives once and only once.
    @Test func runKeepsToMaxEventsPerSecond() throws {
        let dir = try makeTempDir("e2e-rate-run")
        let server = try FaultEndToEndTests.server()
        defer { server.stop() }
        let configPath = dir + "/agent.yaml"
        try Self.config(dir: dir, port: server.port, destination: "  max_events_per_second: 200", maxEvents: 50)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        #expect(eventually(timeout: 10) { agent.log.contains("agent.started") }, "log:\n\(agent.log)")
        usleep(300_000)
        try append(FaultEndToEndTests.lines(0..<1000), to: dir + "/logs/app.log")
        let arrived = try eventually(timeout: 15) { try server.storedEvents(dedup: true).count >= 1000 }
        #expect(arrived, "agent log:\n\(agent.log.suffix(3000))")
        #expect(agent.terminate() == 0)
        Self.expectWithinBudget(try Self.acceptedRequests(server), rate: 200, burst: 200, batch: 50, total: 1000)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<1000)
        #expect(try server.storedEvents().count == 1000, "no copy sent twice")
        #expect(agent.log.contains("max_events_per_second"), "the budget is logged at the start")
    }

    /// SIGTERM while the budget holds most of a burst back (3,000 lines at 100/s): the agent
    /// gives up what the budget holds at once rather than sending it at the budget's pace
    /// through the 10 s grace, exits 0, and what it had not delivered stays unacknowledged:
    /// after a restart without the budget, every line arrives once.
    @Test func aStopWhileTheBudgetHoldsEventsBackLosesNothing() throws {
        let dir = try makeTempDir("e2e-rate-stop")
        let server = try FaultEndToEndTests.server()
        defer { server.stop() }
        let configPath = dir + "/agent.yaml"
        try Self.config(dir: dir, port: server.port, destination: "  max_events_per_second: 100", maxEvents: 50)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        var agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        #expect(eventually(timeout: 10) { agent.log.contains("agent.started") }, "log:\n\(agent.log)")
        usleep(300_000)
        try append(FaultEndToEndTests.lines(0..<3000), to: dir + "/logs/app.log")
        #expect(try eventually(timeout: 10) { try server.storedEvents(dedup: true).count >= 100 })
        let stopped = Date()
        #expect(agent.terminate(timeout: 30) == 0, "agent log:\n\(agent.log.suffix(3000))")
        let took = Date().timeIntervalSince(stopped)
        #expect(took < 3, "the stop does not wait out the grace at the budget's pace: \(took) s")
        #expect(agent.log.contains("ship.stopped_undelivered"), "\(agent.log.suffix(3000))")
        let delivered = try server.storedEvents(dedup: true).count
        #expect(delivered < 3000, "the budget held events back: \(delivered)")
        Self.expectWithinBudget(
            try Self.acceptedRequests(server), rate: 100, burst: 100, batch: 50, total: delivered, paced: false)

        try Self.config(dir: dir, port: server.port, destination: "", maxEvents: 50)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        let arrived = try eventually(timeout: 15) { try server.storedEvents(dedup: true).count >= 3000 }
        #expect(arrived, "agent log:\n\(agent.log.suffix(3000))")
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<3000)
    }

    /// `import` goes through the same shipper: 900 lines at 300 events/s in batches of 100.
    @Test func importKeepsToMaxEventsPerSecond() throws {
        let dir = try makeTempDir("e2e-rate-import")
        let server = try FaultEndToEndTests.server()
        defer { server.stop() }
        let configPath = dir + "/agent.yaml"
        try Self.config(dir: dir, port: server.port, destination: "  max_events_per_second: 300", maxEvents: 100)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let file = dir + "/logs/app.log.1"
        try append(FaultEndToEndTests.lines(0..<900), to: file)
        let result = try TailshipProcess.run(
            ["import", "-c", configPath, file], env: ["E2E_SECRET": FaultEndToEndTests.secret])
        #expect(result.status == 0, "\(result.stderr)")
        Self.expectWithinBudget(try Self.acceptedRequests(server), rate: 300, burst: 300, batch: 100, total: 900)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<900)
        #expect(try server.storedEvents().count == 900, "no copy sent twice")
    }

    /// Four requests in flight are all refused with 429 (`Retry-After: 1`): the limit is cut
    /// once, to 2, not once per refusal; answers under it grow it back to 3 and then to 4
    /// (`ship.concurrency_changed`, and `tailship_requests_in_flight_limit` on `/metrics`), and
    /// every event arrives once.
    @Test func injected429sHalveTheRequestsInFlightAndTheyGrowBack() throws {
        let dir = try makeTempDir("e2e-rate-429")
        let server = try FaultEndToEndTests.server()
        defer { server.stop() }
        // Held 300 ms each, so the four are in flight together when refused.
        let refusal: [String: Any] = ["status": 429, "retry_after": 1, "delay_ms": 300]
        try server.inject(Array(repeating: refusal, count: 4))
        let configPath = dir + "/agent.yaml"
        let metricsPort = try MetricsEndToEndTests.freePort()
        try
            (Self.config(dir: dir, port: server.port, destination: "", maxEvents: 20)
            + "\nmetrics: { listen: 127.0.0.1:\(metricsPort) }\n")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        #expect(eventually(timeout: 10) { agent.log.contains("agent.started") }, "log:\n\(agent.log)")
        func limit() throws -> Double? {
            try MetricsEndToEndTests.scrape(metricsPort).value("tailship_requests_in_flight_limit")
        }
        #expect(try limit() == 4)
        usleep(300_000)
        try append(FaultEndToEndTests.lines(0..<2000), to: dir + "/logs/app.log")
        // No answer comes for a second after the cut (Retry-After), so the gauge holds 2 meanwhile.
        #expect(eventually(timeout: 10) { agent.log.contains("in_flight.limit=2") }, "\(agent.log.suffix(3000))")
        #expect(try limit() == 2)
        let arrived = try eventually(timeout: 15) { try server.storedEvents(dedup: true).count >= 2000 }
        #expect(arrived, "agent log:\n\(agent.log.suffix(3000))")
        #expect(try limit() == 4, "grown back to max_in_flight")
        #expect(agent.terminate() == 0)

        let changes = agent.log.split(separator: "\n").filter { $0.contains("ship.concurrency_changed") }
        let limits = changes.compactMap { line in
            line.firstMatch(of: /in_flight\.limit[":= ]+(\d+)/).map { Int($0.1)! }
        }
        #expect(limits == [2, 3, 4], "cut once to 2, then grown back: \(changes)")
        let requests = try server.requests().filter { $0["path"] as? String == "/import" }
        let refused = requests.filter { $0["status"] as? Int == 429 }
        #expect(refused.count == 4)
        // Retry-After is honoured as before: nothing is accepted within its second.
        let firstRefused = try #require(refused.compactMap { $0["time_ms"] as? Int }.min())
        let firstAccepted = try #require(
            requests.filter { $0["status"] as? Int == 200 }.compactMap { $0["time_ms"] as? Int }.min())
        #expect(firstAccepted - firstRefused >= 1000, "\(firstAccepted - firstRefused) ms")
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<2000)
        #expect(try server.storedEvents().count == 2000, "a 429 stores nothing: no copy twice")
    }
}
