import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The local fake Mixpanel Ingestion API (`Tests/ingest-server/fake_ingest.py`) as a child
/// process, with blocking helpers for its ingestion endpoints and its `/_control/` API.
///
/// Each instance owns one server on a free loopback port; `stop()` (also run by `deinit`)
/// sends SIGTERM and waits. The server is started with `--exit-on-stdin-eof`, so it also dies
/// with the test process if that crashes. HTTP is a plain blocking socket client sending
/// `Connection: close`: simple, and no URLSession run loop or callbacks in tests.
final class IngestServer: @unchecked Sendable {
    /// One HTTP answer: status, lower-cased header names, raw body.
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]

        /// The body as UTF-8 text.
        var text: String { String(decoding: body, as: UTF8.self) }

        /// The body decoded as JSON (objects become `[String: Any]`, arrays `[Any]`).
        func json() throws -> Any {
            try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        }
    }

    /// One accepted event copy as the server stored it (`GET /_control/events`).
    struct StoredEvent {
        var event: String
        /// Properties as sent, minus `ip` (the server drops it, as Mixpanel's geo lookup does).
        var properties: [String: Any]
        var timeMs: Int64
        var distinctID: String
        var insertID: String
        /// The `ip` property the event carried, or nil when Mixpanel would use the request IP.
        var ip: String?
        var usedRequestIP: Bool
        /// `/import` or `/track`.
        var endpoint: String

        init(_ raw: [String: Any]) throws {
            guard let event = raw["event"] as? String, let props = raw["properties"] as? [String: Any],
                let time = raw["time_ms"] as? NSNumber, let insert = raw["insert_id"] as? String,
                let endpoint = raw["endpoint"] as? String
            else { throw Failure.badResponse("unexpected stored event \(raw)") }
            self.event = event
            self.properties = props
            self.timeMs = time.int64Value
            self.distinctID = raw["distinct_id"] as? String ?? ""
            self.insertID = insert
            self.ip = (raw["ip"] as? String) ?? (raw["ip"] as? NSNumber)?.stringValue
            self.usedRequestIP = raw["used_request_ip"] as? Bool ?? false
            self.endpoint = endpoint
        }
    }

    /// Why talking to the fake server failed.
    enum Failure: Error, CustomStringConvertible {
        case launch(String)
        case socket(String, Int32)
        case badResponse(String)

        var description: String {
            switch self {
            case .launch(let why): return "fake ingest server did not start: \(why)"
            case .socket(let call, let code): return "\(call) failed: \(String(cString: strerror(code)))"
            case .badResponse(let why): return "bad answer from fake ingest server: \(why)"
            }
        }
    }

    /// The loopback port the server listens on (HTTPS when started with `tls`).
    let port: Int
    /// The plain-HTTP port this harness talks to: `port`, or the server's second port in TLS mode.
    let controlPort: Int
    /// `http://127.0.0.1:<port>` (`https://` in TLS mode).
    let baseURL: URL
    /// Credentials and project the server accepts (read back from it after start).
    let projectID: String
    let serviceAccountUser: String
    let serviceAccountSecret: String
    let token: String
    let secret: String

    private let process: Process
    private let stdin: Pipe
    private let stdout: Pipe
    private let lock = NSLock()
    private var stopped = false

    /// `Tests/ingest-server/fake_ingest.py`, found from this file's location in the repository.
    static let script: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ingest-server/fake_ingest.py")

    /// Starts a server; `arguments` are extra command-line knobs such as
    /// `["--max-body-bytes", "2097152"]` or `["--id-merge", "simplified"]`. With `tls`, `port`
    /// serves HTTPS with that PEM certificate and key.
    init(arguments: [String] = [], tls: (certificate: String, key: String)? = nil, startTimeout: Double = 10) throws {
        let python = ProcessInfo.processInfo.environment["TAILSHIP_PYTHON"] ?? "python3"
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [python, Self.script.path, "--port", "0", "--exit-on-stdin-eof"] + arguments
            + (tls.map { ["--tls-cert", $0.certificate, "--tls-key", $0.key] } ?? [])
        stdin = Pipe()
        stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        do {
            try process.run()
        } catch {
            throw Failure.launch("\(error)")
        }
        do {
            let line = try Self.readLine(stdout.fileHandleForReading.fileDescriptor, timeout: startTimeout)
            guard line.hasPrefix("LISTENING "), let value = Int(line.dropFirst("LISTENING ".count)) else {
                throw Failure.launch("unexpected first line \(line.debugDescription)")
            }
            port = value
            baseURL = URL(string: "\(tls == nil ? "http" : "https")://127.0.0.1:\(value)")!
            if tls != nil {
                let control = try Self.readLine(stdout.fileHandleForReading.fileDescriptor, timeout: startTimeout)
                guard control.hasPrefix("CONTROL "), let plain = Int(control.dropFirst("CONTROL ".count)) else {
                    throw Failure.launch("unexpected second line \(control.debugDescription)")
                }
                controlPort = plain
            } else {
                controlPort = value
            }
            let config = try Self.send(
                port: controlPort, method: "GET", path: "/_control/config", headers: [:],
                body: [], timeout: 10)
            guard let object = try config.json() as? [String: Any] else {
                throw Failure.badResponse(config.text)
            }
            projectID = object["project_id"] as? String ?? ""
            serviceAccountUser = object["sa_user"] as? String ?? ""
            serviceAccountSecret = object["sa_secret"] as? String ?? ""
            token = object["token"] as? String ?? ""
            secret = object["secret"] as? String ?? ""
        } catch {
            Self.terminate(process, stdin: stdin)
            throw error
        }
    }

    deinit {
        stop()
    }

    /// Sends SIGTERM and waits for the server to exit (SIGKILL after 5 s). Idempotent.
    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first { Self.terminate(process, stdin: stdin) }
    }

    /// `/import?strict=1&project_id=<projectID>`: the service-account import path.
    var importPath: String { "/import?strict=1&project_id=\(projectID)" }

    /// `Basic` header value for the service account.
    var serviceAccountAuthorization: String {
        "Basic " + Data("\(serviceAccountUser):\(serviceAccountSecret)".utf8).base64EncodedString()
    }

    /// `Basic` header value for project-token auth (token as user, empty password).
    var tokenAuthorization: String { "Basic " + Data("\(token):".utf8).base64EncodedString() }

    /// One blocking plain-HTTP request to the server (its `controlPort`).
    func request(
        _ method: String, _ path: String, body: [UInt8] = [], headers: [String: String] = [:],
        timeout: Double = 30
    ) throws -> Response {
        try Self.send(port: controlPort, method: method, path: path, headers: headers, body: body, timeout: timeout)
    }

    /// POSTs a JSON value (`Content-Type: application/json` unless `headers` says otherwise).
    func post(_ path: String, json: Any, headers: [String: String] = [:]) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: json)
        var all = ["Content-Type": "application/json"]
        all.merge(headers) { _, new in new }
        return try request("POST", path, body: [UInt8](data), headers: all)
    }

    /// Every accepted copy (raw-export view), or the latest copy per dedup key when `dedup`.
    func events(dedup: Bool = false) throws -> [[String: Any]] {
        try control("GET", dedup ? "events?view=dedup" : "events") as? [[String: Any]] ?? []
    }

    /// `events(dedup:)` decoded into `StoredEvent`s.
    func storedEvents(dedup: Bool = false) throws -> [StoredEvent] {
        try events(dedup: dedup).map(StoredEvent.init)
    }

    /// Counters: `requests_by_status`, `events_accepted`, `duplicates`, `unique_events`, ...
    func stats() throws -> [String: Any] {
        try control("GET", "stats") as? [String: Any] ?? [:]
    }

    /// The recent request log (path, query, status, events, gzip, content_type, auth, ...).
    func requests() throws -> [[String: Any]] {
        try control("GET", "requests") as? [[String: Any]] ?? []
    }

    /// Profiles and groups built from /engage and /groups updates.
    func profiles() throws -> [String: Any] {
        try control("GET", "profiles") as? [String: Any] ?? [:]
    }

    /// Queues faults consumed one per ingestion request, e.g. `["status": 429, "retry_after": 1]`,
    /// `["reset_after_ingest": true]`, `["delay_ms": 2000]`.
    func inject(_ faults: [[String: Any]]) throws {
        _ = try control("POST", "faults", faults)
    }

    /// Changes knobs at runtime: credentials, `max_body_bytes`, `max_events`, `id_merge`,
    /// `outage` (every ingestion request answers 503), `clock_offset_ms`.
    func setConfig(_ config: [String: Any]) throws {
        _ = try control("POST", "config", config)
    }

    /// Random faults with a seeded generator; `failRate: 0, resetRate: 0` turns chaos off.
    func chaos(failRate: Double, resetRate: Double = 0, seed: Int = 1, statuses: [Int] = [429, 500, 502, 503])
        throws
    {
        _ = try control(
            "POST", "chaos",
            [
                "fail_rate": failRate, "reset_rate": resetRate, "seed": seed,
                "statuses": statuses,
            ])
    }

    /// Forgets events, profiles, faults, chaos, statistics and the outage switch.
    func reset() throws {
        _ = try control("POST", "reset")
    }

    private func control(_ method: String, _ name: String, _ payload: Any? = nil) throws -> Any {
        let body = try payload.map { [UInt8](try JSONSerialization.data(withJSONObject: $0)) } ?? []
        let response = try request(
            method, "/_control/\(name)", body: body,
            headers: body.isEmpty ? [:] : ["Content-Type": "application/json"])
        guard response.status == 200 else {
            throw Failure.badResponse("\(method) /_control/\(name): \(response.status) \(response.text)")
        }
        return try response.json()
    }

    // MARK: - Process and socket plumbing

    /// SIGTERM (and closes its stdin), then waits; SIGKILL after 5 s.
    static func terminate(_ process: Process, stdin: Pipe) {
        if process.isRunning { process.terminate() }
        try? stdin.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Reads one `\n`-terminated line from `fd`, waiting at most `timeout` seconds in total.
    static func readLine(_ fd: Int32, timeout: Double) throws -> String {
        var line: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var byte: UInt8 = 0
        while true {
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, left)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { throw Failure.socket("poll", errno) }
            if ready == 0 { throw Failure.launch("no LISTENING line within \(timeout) s") }
            let n = read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { throw Failure.launch("server exited before listening") }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }

    /// One blocking plain-HTTP/1.1 request to 127.0.0.1:`port` with `Connection: close`.
    static func send(
        port: Int, method: String, path: String, headers: [String: String],
        body: [UInt8], timeout: Double
    ) throws -> Response {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure.socket("socket", errno) }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure.socket("connect", errno) }

        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        head += "Content-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let message = Array((head + "\r\n").utf8) + body
        var sent = 0
        while sent < message.count {
            let n = message.withUnsafeBytes { write(fd, $0.baseAddress! + sent, message.count - sent) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure.socket("write", errno) }
            sent += n
        }

        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw Failure.socket("read", errno) }
            if n == 0 { break }
            answer.append(contentsOf: buffer[0..<n])
        }
        return try parse(answer)
    }

    private static func parse(_ answer: [UInt8]) throws -> Response {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = answer.indices.first(where: { answer[$0...].starts(with: separator) }) else {
            throw Failure.badResponse("no complete HTTP head in \(answer.count) bytes (connection dropped?)")
        }
        let lines = String(decoding: answer[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw Failure.badResponse("status line \(lines[0].debugDescription)")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                .trimmingCharacters(in: .whitespaces)
        }
        var body = Array(answer[(end + separator.count)...])
        if let length = headers["content-length"].flatMap(Int.init), length < body.count {
            body = Array(body[..<length])
        }
        return Response(status: status, headers: headers, body: body)
    }
}
