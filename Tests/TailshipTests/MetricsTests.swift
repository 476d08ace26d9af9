import Foundation
import Logging
import Testing

@testable import Tailship

/// The pieces of the metrics endpoint without a socket: the exposition format and its escaping,
/// the request parsing, the `metrics:` section, the health verdict and the stall clock; and the
/// JSON log line.
@Suite struct MetricsTests {
    @Test func expositionHasHelpTypeAndSamplesWithEscapedLabels() {
        let text = PrometheusText.render([
            MetricFamily(
                "tailship_lines_read_total", .counter, "Lines read,\nby source \\ path.",
                [
                    .init([("source", "app")], 3),
                    .init([("path", "/var/log/a\"b\\c\nd.log"), ("source", "x")], 12.5),
                ]),
            MetricFamily("tailship_queue_events", .gauge, "Queued.", []),
        ])
        #expect(
            text == """
                # HELP tailship_lines_read_total Lines read,\\nby source \\\\ path.
                # TYPE tailship_lines_read_total counter
                tailship_lines_read_total{source="app"} 3
                tailship_lines_read_total{path="/var/log/a\\"b\\\\c\\nd.log",source="x"} 12.5
                # HELP tailship_queue_events Queued.
                # TYPE tailship_queue_events gauge

                """)
    }

    @Test func labelValuesKeepEverythingButTheThreeEscapes() {
        #expect(PrometheusText.escapeLabelValue("tab\there é ✓ \r") == "tab\there é ✓ \r")
        #expect(PrometheusText.escapeLabelValue("\\\"\n") == "\\\\\\\"\\n")
        #expect(PrometheusText.number(.nan) == "NaN" && PrometheusText.number(-.infinity) == "-Inf")
        #expect(PrometheusText.number(1e20) == "1e+20" && PrometheusText.number(-4) == "-4")
    }

    @Test func everyFamilyIsNamedAsPrometheusExpects() {
        let families = MetricsCatalog.families(
            counters: AgentMetrics(), labelled: LabelledCounts(), snapshot: MetricsExporter.Snapshot(),
            stallAfterMs: 1000)
        #expect(Set(families.map(\.name)).count == families.count)
        for family in families {
            #expect(family.name.hasPrefix("tailship_"))
            #expect(family.name.hasSuffix("_total") == (family.kind == .counter), "\(family.name)")
        }
        // docs/operations.md lists each one, with its type.
        let docs = try? String(
            contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                "../../docs/operations.md"
            ).standardized.path, encoding: .utf8)
        for family in families {
            #expect(docs?.contains("| `\(family.name)` | \(family.kind.rawValue) |") == true, "\(family.name)")
        }
    }

    @Test func requestHeadsAreParsedStrictlyAndBounded() {
        let get = Array("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        #expect(HTTPRequestHead.parse(get) == .request(HTTPRequestHead(method: "GET", path: "/metrics")))
        #expect(
            HTTPRequestHead.parse(Array("HEAD /healthz HTTP/1.0\n\n".utf8))
                == .request(HTTPRequestHead(method: "HEAD", path: "/healthz")))
        #expect(HTTPRequestHead.parse(Array("GET /metrics HTTP/1.1\r\nHost: a\r\n".utf8)) == .incomplete)
        #expect(HTTPRequestHead.parse(Array("GET /metr".utf8)) == .incomplete)
        #expect(HTTPRequestHead.parse([]) == .incomplete)
        for bad in [
            "GET /metrics\r\n\r\n", "get /metrics HTTP/1.1\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n",
            "GET /a b HTTP/1.1\r\n\r\n", "GET /metrics HTTP/2\r\n\r\n", "\u{16}\u{3}\u{1}\r\n",
            "GET /m\u{1}x HTTP/1.1\r\n\r\n",
        ] {
            #expect(HTTPRequestHead.parse(Array(bad.utf8)) == .malformed, "\(bad.debugDescription)")
        }
        // A bad request line is refused before the head ends.
        #expect(HTTPRequestHead.parse(Array("BLAH\r\nHost: a\r\n".utf8)) == .malformed)
    }

    @Test func listenAddressesAreIPLiteralsWithAPort() throws {
        #expect(
            try ListenAddress.parse("127.0.0.1:9464").get()
                == ListenAddress(host: "127.0.0.1", port: 9464, isIPv6: false))
        #expect(try ListenAddress.parse("[::1]:9464").get().description == "[::1]:9464")
        #expect(try ListenAddress.parse("0.0.0.0:80").get().port == 80)
        for bad in [
            "localhost:9464", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "::1:9464", "[::1]9464", "1.2.3:9",
        ] {
            #expect(throws: ListenAddressError.self, "\(bad)") { try ListenAddress.parse(bad).get() }
        }
    }

    @Test func metricsSectionProblemsArePlacedAtTheirValue() {
        #expect(configProblems(minimalConfig + "metrics: { listen: 127.0.0.1:9464, unhealthy_after: 2s }\n") == [])
        #expect(
            configProblems(minimalConfig + "metrics:\n  listen: localhost:9464\n  unhealthy_after: soon\n  port: 1\n")
                == [
                    "agent.yaml:14:11: invalid 'listen' address 'localhost:9464': 'localhost' is not an IPv4 address (names such as localhost are not resolved)",
                    "agent.yaml:15:20: invalid duration 'soon' for 'unhealthy_after'; \(ConfigUnits.durationHelp)",
                    "agent.yaml:16:3: unknown key 'port' in 'metrics'; expected one of: listen, unhealthy_after",
                ])
        #expect(
            configProblems(minimalConfig + "metrics: { unhealthy_after: 1m }\n")
                == ["agent.yaml:13:10: missing required key 'listen' (the address to serve /metrics and /healthz on)"])
        #expect(
            configProblems(minimalConfig + "metric: {}\n") == [
                "agent.yaml:13:1: unknown key 'metric'; did you mean 'metrics'?"
            ])
    }

    @Test func theConfigCarriesTheSection() throws {
        let config = try ConfigLoader.parse(
            text: minimalConfig + "metrics: { listen: \"[::1]:9100\" }\n", file: "agent.yaml",
            environment: ["MIXPANEL_SECRET": "s"])
        #expect(config.metrics == MetricsConfig(listen: try ListenAddress.parse("[::1]:9100").get()))
        #expect(config.metrics?.unhealthyAfterMs == 300_000)
        #expect(
            try ConfigLoader.parse(text: minimalConfig, file: "a", environment: ["MIXPANEL_SECRET": "s"]).metrics == nil
        )
    }

    /// The example's commented `metrics:` block, uncommented, is valid and says what it shows.
    @Test func theExampleConfigurationsMetricsBlockIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
            .standardized
        let example = try String(contentsOf: root.appendingPathComponent("agent.yaml.example"), encoding: .utf8)
        let enabled = example.replacingOccurrences(of: "\n# metrics:", with: "\nmetrics:")
            .replacingOccurrences(of: "\n#   listen:", with: "\n  listen:")
            .replacingOccurrences(of: "\n#   unhealthy_after:", with: "\n  unhealthy_after:")
        let config = try ConfigLoader.parse(text: enabled, file: "a", environment: ["MIXPANEL_SECRET": "s"])
        #expect(config.metrics == MetricsConfig(listen: try ListenAddress.parse("127.0.0.1:9464").get()))
    }

    private func inputs(
        shipper: ShipperState = .ok, lastTurnMs: Int64? = 100_000,
        stalled: (path: String, behind: UInt64, forMs: Int64)? = nil, unsaved: Bool = false, lastSaveMs: Int64 = 100_000
    ) -> PipelineHealth.Inputs {
        PipelineHealth.Inputs(
            nowMs: 100_000, thresholdMs: 5_000, shipper: shipper, lastTurnMs: lastTurnMs, stalled: stalled,
            unsaved: unsaved, lastSaveMs: lastSaveMs)
    }

    @Test func healthNamesTheFirstProblemThatOutlastedTheThreshold() {
        #expect(PipelineHealth.problem(inputs()) == nil)
        #expect(PipelineHealth.problem(inputs(shipper: .retrying(sinceMs: 96_000, reason: "503"))) == nil)
        #expect(
            PipelineHealth.problem(inputs(shipper: .retrying(sinceMs: 20_000, reason: "503 Service Unavailable")))
                == "shipper retrying for 1m20s: 503 Service Unavailable")
        #expect(
            PipelineHealth.problem(inputs(shipper: .paused(sinceMs: 90_000, reason: "401")))
                == "shipping paused for 10s (credentials refused): 401")
        #expect(PipelineHealth.problem(inputs(lastTurnMs: 94_000)) == "the reading thread has not turned for 6s")
        #expect(
            PipelineHealth.problem(inputs(stalled: ("/l/a.log", 42, 7_000)))
                == "file stalled for 7s: /l/a.log (42 bytes behind its checkpoint)")
        // Stalls while the shipper fails are its doing: reported as its problem, in its time.
        #expect(
            PipelineHealth.problem(
                inputs(shipper: .retrying(sinceMs: 99_000, reason: "503"), stalled: ("/l/a.log", 42, 7_000))) == nil)
        // An old save is no problem while nothing waits to be saved.
        #expect(PipelineHealth.problem(inputs(lastSaveMs: 0)) == nil)
        #expect(
            PipelineHealth.problem(inputs(unsaved: true, lastSaveMs: 90_000))
                == "checkpoints not saved for 10s with progress to save")
    }

    @Test func theStallClockRunsOnlyWhileTheCheckpointStandsWithBytesBehind() {
        var watches = FileWatches()
        // Caught up: no clock.
        var seen = watches.sample(file: 1, readOffset: 100, size: 100, checkpoint: 100, nowMs: 1_000)
        #expect(seen.behind == 0 && seen.behindForMs == nil && seen.secondsSinceRead == 0)
        // The file grows; the checkpoint stands.
        seen = watches.sample(file: 1, readOffset: 100, size: 150, checkpoint: 100, nowMs: 2_000)
        #expect(seen.behind == 50 && seen.behindForMs == 0 && seen.secondsSinceRead == 1)
        seen = watches.sample(file: 1, readOffset: 150, size: 200, checkpoint: 100, nowMs: 9_000)
        #expect(seen.behindForMs == 7_000 && seen.secondsSinceRead == 0)
        // The checkpoint moves: the clock starts again.
        seen = watches.sample(file: 1, readOffset: 200, size: 200, checkpoint: 150, nowMs: 10_000)
        #expect(seen.behind == 50 && seen.behindForMs == 0)
        watches.keep(only: [])
        seen = watches.sample(file: 1, readOffset: 200, size: nil, checkpoint: 150, nowMs: 11_000)
        #expect(seen.behind == nil && seen.behindForMs == nil && seen.secondsSinceRead == 0)
    }

    /// A file being drained under its old name, now another file's, is not measured by that one.
    @Test func aFileIsMeasuredOnlyWhileItsPathNamesIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-size-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/a.log"
        try "0123456789\n".write(toFile: path, atomically: false, encoding: .utf8)
        let inode = try FileStatus.of(path: path).inode
        func status(inode: UInt64?) -> TailedFileStatus {
            TailedFileStatus(
                file: 1, source: 0, path: path,
                identity: inode.map { FileIdentity(device: 0, inode: $0, fingerprint: 0, fingerprintLength: 0) },
                offset: 0, draining: false)
        }
        #expect(MetricsExporter.size(of: status(inode: inode)) == 11)
        #expect(MetricsExporter.size(of: status(inode: nil)) == 11)
        #expect(MetricsExporter.size(of: status(inode: inode + 1)) == nil)
        try FileManager.default.removeItem(atPath: path)
        #expect(MetricsExporter.size(of: status(inode: inode)) == nil)
    }

    @Test func jsonLogLinesEscapeEverythingAndNameTheEvent() throws {
        let line = StderrLogHandler.jsonLine(
            level: .warning, message: "ship.delivery_failed: retrying \"now\"",
            metadata: ["file.path": "/a\nb\u{1B}[2J\u{85}\u{2028}", "name": "x", "n": "1"],
            timestamp: "2026-11-28T04:59:15.481Z")
        #expect(line.hasSuffix("}\n") && !line.dropLast().contains("\n"))
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F...0x9F).contains($0.value) })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(
            object == [
                "ts": "2026-11-28T04:59:15.481Z", "level": "warning", "name": "ship.delivery_failed",
                "msg": "retrying \"now\"", "file.path": "/a\nb\u{1B}[2J\u{85}\u{2028}", "metadata.name": "x", "n": "1",
            ])
        #expect(
            StderrLogHandler.jsonLine(level: .info, message: "agent.started", metadata: [:], timestamp: "t")
                == "{\"ts\":\"t\",\"level\":\"info\",\"name\":\"agent.started\"}\n")
        #expect(
            StderrLogHandler.jsonLine(level: .info, message: "a library's words", metadata: [:], timestamp: "t")
                == "{\"ts\":\"t\",\"level\":\"info\",\"msg\":\"a library's words\"}\n")
    }
}
