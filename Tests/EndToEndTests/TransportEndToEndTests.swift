import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built binary's transport promises (docs/delivery.md, "The request"): TLS verification
/// always on with `ca_file` for a private CA, proxies from the standard environment variables,
/// and the per-request timeout. Each test ships a few hundred lines and checks exactly-once
/// delivery under dedup with `FaultEndToEndTests.assertExactlyOnce`.
@Suite(.serialized) struct TransportEndToEndTests {
    /// Every proxy variable libcurl reads: each test starts from none and sets its own.
    static let proxyVariables = [
        "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY",
    ]

    /// The fault suite's rule and credentials, with `url` and any extra `destination` lines
    /// (`ca_file: ...`, `timeout: 1s`).
    static func config(dir: String, url: String, destination extra: [String] = []) -> String {
        """
        state_dir: \(dir)/state
        destination:
          url: \(url)
          project_id: "42"
          auth: { username: e2e.sa, secret_env: E2E_SECRET }
          batch: { max_events: 40, flush_interval: 100ms }
          retry: { initial_backoff: 100ms, max_backoff: 1s }
        \(extra.map { "  " + $0 + "\n" }.joined())sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            start_at: beginning
            rules:
              - name: order
                match: '^(?<ts>\\d+) order seq=(?<seq>\\d+) user=(?<user>\\w+)'
                event: Order Placed
                distinct_id: "{{user}}"
                time: { field: ts, format: unix_ms }
                properties:
                  seq: { value: "{{seq}}", type: int }
        """
    }

    /// Writes the config, 200 lines before the agent starts and 100 after, and waits for all
    /// 300 to arrive; returns the running agent (the caller checks and stops it).
    static func shipThreeHundred(
        dir: String, server: IngestServer, config: String, env: [String: String] = [:], timeout: Double = 40
    ) throws -> AgentProcess {
        try config.write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
        try append(FaultEndToEndTests.lines(0..<200), to: dir + "/logs/app.log")
        let agent = try AgentProcess(
            config: dir + "/agent.yaml", env: env.merging(["E2E_SECRET": FaultEndToEndTests.secret]) { a, _ in a },
            unset: proxyVariables, logPath: dir + "/agent.log")
        try append(FaultEndToEndTests.lines(200..<300), to: dir + "/logs/app.log")
        let arrived = try eventually(timeout: timeout) { try server.storedEvents(dedup: true).count >= 300 }
        #expect(arrived, "agent log:\n\(agent.log)")
        return agent
    }

    /// A fake ingestion server over HTTPS with a fresh private CA.
    static func tlsServer(dir: String) throws -> (IngestServer, TestCertificates) {
        let certificates = try TestCertificates.make(in: dir + "/tls")
        let server = try IngestServer(
            arguments: ["--project-id", "42", "--sa-user", "e2e.sa", "--sa-secret", FaultEndToEndTests.secret],
            tls: (certificate: certificates.certificate, key: certificates.key))
        return (server, certificates)
    }

    static func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    @Test func httpsWithThePrivateCAInCAFileDeliversEveryEventOnce() throws {
        let dir = try makeTempDir("e2e-tls")
        let (server, certificates) = try Self.tlsServer(dir: dir)
        let agent = try Self.shipThreeHundred(
            dir: dir, server: server,
            config: Self.config(
                dir: dir, url: server.baseURL.absoluteString, destination: ["ca_file: \(certificates.caFile)"]))
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<300)
        #expect(!agent.log.contains("delivery failed"), "agent log:\n\(agent.log)")
    }

    @Test func anUntrustedCertificateIsRetriedWithoutLossUntilAReloadAddsTheCA() throws {
        let dir = try makeTempDir("e2e-tls-untrusted")
        let (server, certificates) = try Self.tlsServer(dir: dir)
        let configPath = dir + "/agent.yaml"
        let url = server.baseURL.absoluteString
        try Self.config(dir: dir, url: url).write(toFile: configPath, atomically: true, encoding: .utf8)
        try append(FaultEndToEndTests.lines(0..<200), to: dir + "/logs/app.log")
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], unset: Self.proxyVariables,
            logPath: dir + "/agent.log")
        // The system CAs do not know ours: every attempt fails verification, says so, and the
        // same batch is tried again (jitter alone is 1-5 s, so a second attempt takes a few seconds).
        let retried = eventually(timeout: 30) { agent.log.contains("retry.attempt=2") }
        #expect(retried, "agent log:\n\(agent.log)")
        let log = agent.log
        #expect(log.contains("reason=\"tls:"), "the log names the TLS failure:\n\(log)")
        #expect(log.contains("certificate"), "and the certificate problem:\n\(log)")
        #expect(agent.process.isRunning, "the agent keeps running")
        #expect(try server.storedEvents().isEmpty)
        #expect(try server.requests().isEmpty, "nothing got past the handshake")
        #expect(!FileManager.default.fileExists(atPath: dir + "/state/dead-letters.ndjson"))

        // A reload builds a new shipper, and with it a transport that trusts the CA.
        try Self.config(dir: dir, url: url, destination: ["ca_file: \(certificates.caFile)"])
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        try append(FaultEndToEndTests.lines(200..<300), to: dir + "/logs/app.log")
        // The reload first stops the old pipeline, whose stuck batches hold it up to the 10 s grace.
        let arrived = try eventually(timeout: 60) { try server.storedEvents(dedup: true).count >= 300 }
        #expect(arrived, "agent log:\n\(agent.log)")
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<300)
        #expect(!FileManager.default.fileExists(atPath: dir + "/state/dead-letters.ndjson"))
    }

    @Test func httpProxyFromTheEnvironmentCarriesEveryRequest() throws {
        let dir = try makeTempDir("e2e-proxy")
        let server = try FaultEndToEndTests.server()
        let proxy = try ForwardProxy()
        let agent = try Self.shipThreeHundred(
            dir: dir, server: server, config: Self.config(dir: dir, url: "http://127.0.0.1:\(server.port)"),
            env: ["http_proxy": proxy.url])
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<300)
        let stats = try proxy.stats()
        #expect(stats.requests > 0 && stats.tunnels == 0, "\(stats)")
        #expect(stats.requests == (try server.requests().count), "every request the server saw came via the proxy")
    }

    @Test func noProxyKeepsLoopbackAwayFromTheProxy() throws {
        let dir = try makeTempDir("e2e-noproxy")
        let server = try FaultEndToEndTests.server()
        let proxy = try ForwardProxy()
        let agent = try Self.shipThreeHundred(
            dir: dir, server: server, config: Self.config(dir: dir, url: "http://127.0.0.1:\(server.port)"),
            env: ["http_proxy": proxy.url, "https_proxy": proxy.url, "no_proxy": "127.0.0.1"])
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<300)
        #expect(try proxy.stats() == ForwardProxy.Stats(requests: 0, tunnels: 0))
    }

    @Test func httpsProxyTunnelsTLSWithThePrivateCA() throws {
        let dir = try makeTempDir("e2e-proxy-tls")
        let (server, certificates) = try Self.tlsServer(dir: dir)
        let proxy = try ForwardProxy()
        let agent = try Self.shipThreeHundred(
            dir: dir, server: server,
            config: Self.config(
                dir: dir, url: server.baseURL.absoluteString, destination: ["ca_file: \(certificates.caFile)"]),
            env: ["https_proxy": proxy.url])
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<300)
        let stats = try proxy.stats()
        // Connections are kept alive, so a few tunnels carry every batch.
        #expect(stats.tunnels > 0 && stats.requests == 0, "\(stats)")
        #expect(stats.tunnels <= (try server.requests().count), "\(stats)")
    }

    @Test func aSlowAnswerTimesOutAndIsRetriedWithoutLoss() throws {
        let dir = try makeTempDir("e2e-timeout")
        let server = try FaultEndToEndTests.server()
        // The first two requests are answered after 3 s (and ingested then): past the 1 s timeout.
        try server.inject([["delay_ms": 3000], ["delay_ms": 3000]])
        let agent = try Self.shipThreeHundred(
            dir: dir, server: server,
            config: Self.config(dir: dir, url: "http://127.0.0.1:\(server.port)", destination: ["timeout: 1s"]),
            timeout: 60)
        #expect(agent.terminate() == 0)
        let log = agent.log
        #expect(Self.count("reason=\"timeout:", in: log) >= 2, "both slow requests timed out:\n\(log)")
        // Their events were ingested when the late answers went out: duplicates the dedup view hides.
        let recorded = try eventually(timeout: 10) { try server.requests().filter { $0["fault"] != nil }.count == 2 }
        #expect(recorded)
        #expect(try server.stats()["duplicates"] as? Int ?? 0 > 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<300)
    }
}
