import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `metrics:` against the real agent and the fake API: `/metrics` scraped before and after lines
/// are shipped (parsed strictly each time), `/healthz` through an outage, a reload that moves
/// the endpoint, and the log options. The default config (`start_at: end`) throughout.
@Suite(.serialized) struct MetricsEndToEndTests {
    static let secret = FaultEndToEndTests.secret

    static func writeConfig(
        dir: String, apiPort: Int, metricsPort: Int, host: String = "127.0.0.1", unhealthyAfter: String = "2s"
    ) throws -> String {
        let path = dir + "/agent.yaml"
        let text =
            FaultEndToEndTests.config(dir: dir, port: apiPort, startAt: "")
            + "\nmetrics: { listen: \(host):\(metricsPort), unhealthy_after: \(unhealthyAfter) }\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A loopback port nobody listens on now (bound and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func get(_ port: Int, _ path: String) throws -> IngestServer.Response {
        try IngestServer.send(port: port, method: "GET", path: path, headers: [:], body: [], timeout: 5)
    }

    static func scrape(_ port: Int) throws -> PrometheusTextParser {
        let response = try get(port, "/metrics")
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        do {
            return try PrometheusTextParser(response.text)
        } catch {
            Issue.record("not Prometheus text: \(error)\n\(response.text)")
            throw error
        }
    }

    static func healthz(_ port: Int) -> (Int, String)? {
        guard let response = try? get(port, "/healthz") else { return nil }
        return (response.status, response.text)
    }

    @Test func countersRiseAsLinesShipAndTheOutputParsesAsPrometheusText() throws {
        let dir = try makeTempDir("e2e-metrics")
        let server = try FaultEndToEndTests.server()
        let port = try Self.freePort()
        let config = try Self.writeConfig(dir: dir, apiPort: server.port, metricsPort: port)
        let log = dir + "/logs/app.log"
        try append("", to: log)
        let agent = try AgentProcess(config: config, env: ["E2E_SECRET": Self.secret], logPath: dir + "/agent.log")
        #expect(eventually { Self.healthz(port)?.0 == 200 }, "agent log:\n\(agent.log)")
        #expect(Self.healthz(port)?.1 == "ok\n")
        #expect(agent.log.contains("metrics.listening metrics.listen=127.0.0.1:\(port)"))

        let before = try Self.scrape(port)
        #expect(before.types["tailship_lines_read_total"] == "counter")
        #expect(before.types["tailship_queue_events"] == "gauge")
        #expect(before.value("tailship_lines_read_total", ["source": "app"]) == 0)
        #expect(before.value("tailship_events_produced_total", ["source": "app", "rule": "order"]) == 0)
        #expect(before.value("tailship_events_dead_lettered_total", ["reason": "api_rejected"]) == 0)
        #expect(before.value("tailship_file_bytes_behind", ["path": log, "source": "app"]) == 0)
        #expect(before.value("tailship_file_stalled", ["path": log, "source": "app"]) == 0)
        #expect(before.value("tailship_healthy") == 1)

        let lines = FaultEndToEndTests.lines(0..<25)
        try append(lines, to: log)
        #expect(try eventually { try server.storedEvents(dedup: true).count == 25 })
        #expect(try eventually { try Self.scrape(port).value("tailship_events_delivered_total") == 25 })
        let after = try Self.scrape(port)
        #expect(after.value("tailship_lines_read_total", ["source": "app"]) == 25)
        #expect(after.value("tailship_bytes_read_total", ["source": "app"]) == Double(lines.utf8.count))
        #expect(after.value("tailship_events_produced_total", ["source": "app", "rule": "order"]) == 25)
        #expect(after.value("tailship_events_sent_total") == 25)
        #expect(after.value("tailship_events_accepted_total") == 25)
        #expect(after.value("tailship_batches_sent_total").map { $0 >= 1 } == true)
        #expect(after.value("tailship_batches_accepted_total") == after.value("tailship_batches_sent_total"))
        #expect(
            after.value("tailship_http_responses_total", ["code": "200"]) == after.value("tailship_batches_sent_total"))
        #expect(after.value("tailship_retries_total") == 0)
        #expect(after.value("tailship_requests_in_flight") == 0)
        #expect(after.value("tailship_queue_events") == 0)
        #expect(
            after.value("tailship_file_seconds_since_read", ["path": log, "source": "app"]).map { $0 < 10 } == true)
        // A line no rule takes, and one the local validation refuses.
        try append("no rule takes this\n", to: log)
        try append(FaultEndToEndTests.lines(25..<26) { _ in 9_999_999_999_999 }, to: log)
        #expect(try eventually { try Self.scrape(port).value("tailship_lines_unmatched_total") == 1 })
        #expect(
            try eventually {
                try Self.scrape(port).value("tailship_events_dead_lettered_total", ["reason": "local_validation"]) == 1
            })
        #expect(try Self.scrape(port).value("tailship_events_invalid_total") == 1)
        #expect(
            try eventually {
                try Self.scrape(port).value("tailship_file_bytes_behind", ["path": log, "source": "app"]) == 0
            })
        #expect(Self.healthz(port)?.0 == 200)
        // A last line still being written: bytes behind, but no stall, past the 2 s threshold.
        try append("1793491200000 order seq=", to: log)
        Thread.sleep(forTimeInterval: 3)
        let partial = try Self.scrape(port)
        #expect(partial.value("tailship_file_bytes_behind", ["path": log, "source": "app"]) == 24)
        #expect(partial.value("tailship_file_stalled", ["path": log, "source": "app"]) == 0)
        #expect(Self.healthz(port)?.0 == 200)
        // Anything else: 404; not GET or HEAD: 405; a head over 8 KiB: 431.
        #expect(try Self.get(port, "/nothing").status == 404)
        #expect(
            try IngestServer.send(port: port, method: "POST", path: "/metrics", headers: [:], body: [], timeout: 5)
                .status == 405)
        let head = try IngestServer.send(
            port: port, method: "HEAD", path: "/healthz", headers: [:], body: [], timeout: 5)
        #expect(head.status == 200 && head.body.isEmpty)
        let huge = try IngestServer.send(
            port: port, method: "GET", path: "/metrics", headers: ["X-Filler": String(repeating: "a", count: 9000)],
            body: [], timeout: 5)
        #expect(huge.status == 431)
        // A client that sends nothing is dropped after 2 s; the next is served.
        let silent = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(silent, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(connected == 0)
        let started = Date()
        #expect(Self.healthz(port)?.0 == 200)
        #expect(Date().timeIntervalSince(started) > 1.5 && Date().timeIntervalSince(started) < 4)
        close(silent)
        #expect(agent.terminate() == 0)
        // Stopped with the agent.
        #expect(Self.healthz(port) == nil)
    }

    @Test func healthzIsUnhealthyWhileTheAPIIsDownPastTheThresholdAndHealthyAfter() throws {
        let dir = try makeTempDir("e2e-metrics-health")
        let server = try FaultEndToEndTests.server()
        let port = try Self.freePort()
        let config = try Self.writeConfig(dir: dir, apiPort: server.port, metricsPort: port)
        let log = dir + "/logs/app.log"
        try append("", to: log)
        let agent = try AgentProcess(config: config, env: ["E2E_SECRET": Self.secret], logPath: dir + "/agent.log")
        #expect(eventually { Self.healthz(port)?.0 == 200 }, "agent log:\n\(agent.log)")
        try server.setConfig(["outage": true])
        try append(FaultEndToEndTests.lines(0..<10), to: log)
        // Retrying, but not yet for the 2 s threshold: still healthy.
        #expect(try eventually { try Self.scrape(port).value("tailship_retries_total").map { $0 >= 1 } == true })
        var answer = Self.healthz(port)
        #expect(
            eventually(timeout: 20) {
                answer = Self.healthz(port)
                return answer?.0 == 503
            }, "agent log:\n\(agent.log)")
        #expect(answer?.1.hasPrefix("shipper retrying for ") == true, "\(String(describing: answer))")
        #expect(answer?.1.contains(": 503") == true, "\(String(describing: answer))")
        #expect(answer?.1.hasSuffix("\n") == true && answer?.1.dropLast().contains("\n") == false)
        let down = try Self.scrape(port)
        #expect(down.value("tailship_healthy") == 0)
        #expect(down.value("tailship_http_responses_total", ["code": "503"]).map { $0 >= 2 } == true)
        #expect(down.value("tailship_file_bytes_behind", ["path": log, "source": "app"]).map { $0 > 0 } == true)
        // The file grew and its checkpoint stood for the threshold: stalled (the shipper named as the cause).
        #expect(
            try eventually {
                try Self.scrape(port).value("tailship_file_stalled", ["path": log, "source": "app"]) == 1
            })
        #expect(Self.healthz(port)?.1.hasPrefix("shipper retrying for ") == true)
        try server.setConfig(["outage": false])
        #expect(eventually(timeout: 20) { Self.healthz(port)?.0 == 200 }, "agent log:\n\(agent.log)")
        #expect(try Self.scrape(port).value("tailship_file_stalled", ["path": log, "source": "app"]) == 0)
        #expect(try Self.scrape(port).value("tailship_healthy") == 1)
        #expect(try eventually { try server.storedEvents(dedup: true).count == 10 })
        #expect(agent.terminate() == 0)
    }

    @Test func anAddressThatCannotBeBoundStopsTheStart() throws {
        let dir = try makeTempDir("e2e-metrics-busy")
        let server = try FaultEndToEndTests.server()
        let config = try Self.writeConfig(dir: dir, apiPort: server.port, metricsPort: server.port)
        let agent = try AgentProcess(config: config, env: ["E2E_SECRET": Self.secret], logPath: dir + "/agent.log")
        #expect(agent.terminate(timeout: 10) == 2, "agent log:\n\(agent.log)")
        #expect(
            agent.log.contains("critical agent.failed error=\"bind(127.0.0.1:\(server.port)): Address already in use"))
    }

    @Test func metricsSurviveAReloadThatMovesTheEndpoint() throws {
        let dir = try makeTempDir("e2e-metrics-reload")
        let server = try FaultEndToEndTests.server()
        let port = try Self.freePort()
        let config = try Self.writeConfig(dir: dir, apiPort: server.port, metricsPort: port)
        let log = dir + "/logs/app.log"
        try append("", to: log)
        let agent = try AgentProcess(config: config, env: ["E2E_SECRET": Self.secret], logPath: dir + "/agent.log")
        #expect(eventually { Self.healthz(port)?.0 == 200 }, "agent log:\n\(agent.log)")
        try append(FaultEndToEndTests.lines(0..<10), to: log)
        #expect(try eventually { try Self.scrape(port).value("tailship_events_delivered_total") == 10 })

        // Same address: the endpoint stays, and the counters carry on.
        agent.signal(SIGHUP)
        #expect(eventually { agent.log.components(separatedBy: "agent.reloading").count == 2 })
        try append(FaultEndToEndTests.lines(10..<15), to: log)
        #expect(
            try eventually { try Self.scrape(port).value("tailship_events_delivered_total") == 15 },
            "agent log:\n\(agent.log)")
        #expect(try Self.scrape(port).value("tailship_lines_read_total", ["source": "app"]) == 15)

        // Another address on the same port: the old socket gives the port up first.
        _ = try Self.writeConfig(dir: dir, apiPort: server.port, metricsPort: port, host: "0.0.0.0")
        agent.signal(SIGHUP)
        #expect(
            eventually { agent.log.contains("info metrics.listening metrics.listen=0.0.0.0:\(port)") }, "\(agent.log)")
        #expect(eventually { Self.healthz(port)?.0 == 200 })

        // A new address: served there, no longer at the old one.
        let moved = try Self.freePort()
        _ = try Self.writeConfig(dir: dir, apiPort: server.port, metricsPort: moved)
        agent.signal(SIGHUP)
        #expect(eventually { Self.healthz(moved)?.0 == 200 }, "agent log:\n\(agent.log)")
        #expect(Self.healthz(port) == nil)
        try append(FaultEndToEndTests.lines(15..<20), to: log)
        #expect(try eventually { try Self.scrape(moved).value("tailship_events_delivered_total") == 20 })
        #expect(try Self.scrape(moved).value("tailship_lines_read_total", ["source": "app"]) == 20)

        // An address that cannot be had (the fake API's): logged, and the endpoint stays where it is.
        _ = try Self.writeConfig(dir: dir, apiPort: server.port, metricsPort: server.port)
        agent.signal(SIGHUP)
        #expect(eventually { agent.log.contains("error metrics.bind_failed: keeping the endpoint already served") })
        #expect(agent.log.contains("metrics.listen=127.0.0.1:\(server.port)"))
        #expect(eventually { Self.healthz(moved)?.0 == 200 })
        // No section: no endpoint.
        try FaultEndToEndTests.config(dir: dir, port: server.port, startAt: "")
            .write(toFile: config, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        #expect(eventually { Self.healthz(moved) == nil })
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<20)
    }
}
