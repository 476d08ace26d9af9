import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The test forward proxy (`Tests/ingest-server/http_proxy.py`) as a child process: relays
/// absolute-URI requests and `CONNECT` tunnels and counts them, so a test can prove that the
/// agent's traffic did (or did not) go through the proxy its environment names.
final class ForwardProxy: @unchecked Sendable {
    /// What the proxy relayed since it started.
    struct Stats: Equatable {
        /// Plain-HTTP requests forwarded (`POST http://host:port/...`).
        var requests: Int
        /// `CONNECT` tunnels opened.
        var tunnels: Int
    }

    /// The loopback port the proxy listens on.
    let port: Int
    /// `http://127.0.0.1:<port>`: the value for `http_proxy` / `https_proxy`.
    var url: String { "http://127.0.0.1:\(port)" }

    private let process = Process()
    private let stdin = Pipe()
    private let stdout = Pipe()
    private let lock = NSLock()
    private var stopped = false

    /// `Tests/ingest-server/http_proxy.py`, next to the fake ingestion server.
    static let script: URL = IngestServer.script.deletingLastPathComponent().appendingPathComponent("http_proxy.py")

    /// Starts a proxy on a free loopback port and waits for its `LISTENING` line.
    init(startTimeout: Double = 10) throws {
        let python = ProcessInfo.processInfo.environment["TAILSHIP_PYTHON"] ?? "python3"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, Self.script.path, "--port", "0", "--exit-on-stdin-eof"]
        process.standardInput = stdin
        process.standardOutput = stdout
        do {
            try process.run()
        } catch {
            throw IngestServer.Failure.launch("proxy: \(error)")
        }
        do {
            let line = try IngestServer.readLine(stdout.fileHandleForReading.fileDescriptor, timeout: startTimeout)
            guard line.hasPrefix("LISTENING "), let value = Int(line.dropFirst("LISTENING ".count)) else {
                throw IngestServer.Failure.launch("proxy: unexpected first line \(line.debugDescription)")
            }
            port = value
        } catch {
            IngestServer.terminate(process, stdin: stdin)
            throw error
        }
    }

    deinit {
        stop()
    }

    /// Sends SIGTERM and waits for the proxy to exit. Idempotent.
    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first { IngestServer.terminate(process, stdin: stdin) }
    }

    /// The counts from `GET /_proxy/stats`.
    func stats() throws -> Stats {
        let response = try IngestServer.send(
            port: port, method: "GET", path: "/_proxy/stats", headers: [:], body: [], timeout: 10)
        guard response.status == 200, let object = try response.json() as? [String: Any],
            let requests = object["requests"] as? Int, let tunnels = object["tunnels"] as? Int
        else { throw IngestServer.Failure.badResponse("proxy stats: \(response.status) \(response.text)") }
        return Stats(requests: requests, tunnels: tunnels)
    }
}
