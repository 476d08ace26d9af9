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
              \(FaultEndToEndTests.orderRule)
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
    static func tlsServer(dir: String, subjectAltName: String = "IP:127.0.0.1") throws -> (
        IngestServer, TestCertificates
    ) {
        let certificates = try TestCertificates.make(in: dir + "/tls", subjectAltName: subjectAltName)
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

    @Test func aCertificateForAnotherHostIsRefusedEvenFromTheTrustedCA() throws {
        let dir = try makeTempDir("e2e-tls-wrong-host")
        let (server, certificates) = try Self.tlsServer(dir: dir, subjectAltName: "DNS:elsewhere.invalid")
        try Self.config(dir: dir, url: server.baseURL.absoluteString, destination: ["ca_file: \(certificates.caFile)"])
            .write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
        try append(FaultEndToEndTests.lines(0..<100), to: dir + "/logs/app.log")
        let agent = try AgentProcess(
            config: dir + "/agent.yaml", env: ["E2E_SECRET": FaultEndToEndTests.secret], unset: Self.proxyVariables,
            logPath: dir + "/agent.log")
        // Host verification is on: the chain is trusted, the name is not 127.0.0.1.
        let retried = eventually(timeout: 30) { agent.log.contains("retry.attempt=2") }
        #expect(retried, "agent log:\n\(agent.log)")
        #expect(agent.log.contains("reason=\"tls:"), "agent log:\n\(agent.log)")
        #expect(try server.requests().isEmpty, "nothing got past the handshake")
        #expect(agent.terminate() == 0)
        #expect(!FileManager.default.fileExists(atPath: dir + "/state/dead-letters.ndjson"))
        // Nothing acknowledged, so no checkpoint covers the lines: a fixed setup will send them.
        let size = try #require(FileManager.default.attributesOfItem(atPath: dir + "/logs/app.log")[.size] as? UInt64)
        let checkpoints = (try? String(contentsOfFile: dir + "/state/checkpoints.json", encoding: .utf8)) ?? ""
        #expect(!checkpoints.contains("\"offset\" : \(size)"), "\(checkpoints)")
    }

    /// An unreadable `ca_file` would fail every request: `check` and `run` refuse it with its
    /// position, and a reload to such a file is refused while the running agent keeps shipping.
    @Test func aMissingCAFileIsRefusedUpFrontAndOnReload() throws {
        let dir = try makeTempDir("e2e-tls-no-ca-file")
        let (server, certificates) = try Self.tlsServer(dir: dir)
        let missing = dir + "/tls/absent-ca.pem"
        let broken = try Self.config(dir: dir, url: server.baseURL.absoluteString, destination: ["ca_file: \(missing)"])
        try broken.write(toFile: dir + "/broken.yaml", atomically: true, encoding: .utf8)
        let env = ["E2E_SECRET": FaultEndToEndTests.secret]
        for command in ["check", "run"] {
            let result = try TailshipProcess.run([command, "-c", dir + "/broken.yaml"], env: env)
            #expect(result.status != 0, "\(command) accepted an unreadable ca_file")
            #expect(
                result.stderr.contains("broken.yaml:") && result.stderr.contains("'ca_file' \(missing) cannot be read"),
                "\(command): \(result.stderr)")
        }
        // Running with the right file, then reloaded to the missing one: refused, still shipping.
        try Self.config(dir: dir, url: server.baseURL.absoluteString, destination: ["ca_file: \(certificates.caFile)"])
            .write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
        try append(FaultEndToEndTests.lines(0..<100), to: dir + "/logs/app.log")
        let agent = try AgentProcess(
            config: dir + "/agent.yaml", env: env, unset: Self.proxyVariables, logPath: dir + "/agent.log")
        #expect(try eventually { try server.storedEvents(dedup: true).count == 100 })
        try broken.write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        #expect(eventually(timeout: 10) { agent.log.contains("agent.reload_refused") }, "agent log:\n\(agent.log)")
        try append(FaultEndToEndTests.lines(100..<200), to: dir + "/logs/app.log")
        #expect(try eventually { try server.storedEvents(dedup: true).count == 200 }, "agent log:\n\(agent.log)")
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<200)
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
        // The first two requests are answered after 8 s (and ingested then): past the 1 s timeout,
        // and past their retries (1 s timeout + backoff + at most 5 s of jitter), so the events
        // arrive through the retries and the late ingestion is what the server counts twice.
        try server.inject([["delay_ms": 8000], ["delay_ms": 8000]])
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

    @Test func aHangingConnectTimesOutAndDeliveryResumesWhenTheServerAppears() throws {
        let dir = try makeTempDir("e2e-connect-timeout")
        let stalled = try StalledListener()
        let port = stalled.port
        // `timeout` bounds the connect too (the connect timeout is min(10 s, timeout)).
        try Self.config(dir: dir, url: "http://127.0.0.1:\(port)", destination: ["timeout: 1s"])
            .write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
        try append(FaultEndToEndTests.lines(0..<200), to: dir + "/logs/app.log")
        let started = Date()
        let agent = try AgentProcess(
            config: dir + "/agent.yaml", env: ["E2E_SECRET": FaultEndToEndTests.secret], unset: Self.proxyVariables,
            logPath: dir + "/agent.log")
        let timedOut = eventually(timeout: 15) { agent.log.contains("reason=\"timeout:") }
        #expect(timedOut, "agent log:\n\(agent.log)")
        // Seconds, not the 10 s default connect timeout nor the kernel's minutes of SYN retries.
        #expect(Date().timeIntervalSince(started) < 5, "agent log:\n\(agent.log)")
        #expect(agent.process.isRunning)

        stalled.close()
        let server = try IngestServer(arguments: [
            "--port", "\(port)", "--project-id", "42", "--sa-user", "e2e.sa", "--sa-secret", FaultEndToEndTests.secret,
        ])
        try append(FaultEndToEndTests.lines(200..<300), to: dir + "/logs/app.log")
        let arrived = try eventually(timeout: 40) { try server.storedEvents(dedup: true).count >= 300 }
        #expect(arrived, "agent log:\n\(agent.log)")
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<300)
    }
}

/// A loopback port whose connects hang: it listens with a backlog of 0 that its own client
/// sockets fill, and never accepts, so the kernel drops further SYNs. Only a connect timeout
/// ends such an attempt. `close()` frees the port for a real server.
final class StalledListener {
    /// The port that stalls connects.
    let port: Int
    private var descriptors: [Int32] = []

    /// Listens on a free loopback port and fills its accept queue.
    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw IngestServer.Failure.socket("socket", errno) }
        descriptors.append(listener)
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 0) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard bound else {
            let code = errno
            _ = Glibc.close(listener)
            throw IngestServer.Failure.socket("bind/listen", code)
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        var target = Self.loopback(port: port)
        for _ in 0..<3 {  // a backlog of 0 still queues one connection; the rest wait in SYN_SENT
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard client >= 0 else { continue }
            descriptors.append(client)
            _ = withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        usleep(100_000)  // let the queued handshake complete
    }

    deinit {
        close()
    }

    /// Closes the listener and its clients. Idempotent.
    func close() {
        for fd in descriptors { _ = Glibc.close(fd) }
        descriptors.removeAll()
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
