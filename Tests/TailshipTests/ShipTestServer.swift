import Foundation

@testable import Tailship

/// A real HTTP server on 127.0.0.1 for the shipping tests: a small Python `http.server`
/// started per test in a temporary directory. It answers each request with the next step
/// of a script (then with a default success), and records every request (path, headers,
/// raw body, arrival time) so tests can check what went over the wire.
///
/// A step is a JSON object with optional keys: `status` (default 200), `body` (text),
/// `headers` (object), `delay_ms` (sleep before answering), `drop` (close the connection
/// without answering), `fail_indices` (answer a strict 400 whose `failed_records` name
/// these batch positions with their real insert ids), `insert_id_key` (`insert_id` or
/// `$insert_id`). Hostile answers, streamed so the server holds none of them: `stream_bytes`
/// (a 200 of that many bytes with its Content-Length), `unsized_bytes` (the same with no
/// length, ended by closing the connection), `endless` (a chunked body that never ends),
/// `header_count` (that many 100-byte headers).
final class ShipTestServer: @unchecked Sendable {
    struct Request {
        var path: String
        var headers: [String: String]
        var body: [UInt8]
        var time: Double
        /// The client's TCP port: requests with the same port came over the same connection.
        var clientPort: Int

        /// The body after undoing `Content-Encoding: gzip`.
        func decodedBody() throws -> [UInt8] {
            headers["content-encoding"] == "gzip" ? try Gzip.gunzip(body) : body
        }

        /// The decoded body parsed as a JSON array of events.
        func events() throws -> [[String: Any]] {
            (try JSONSerialization.jsonObject(with: Data(try decodedBody())) as? [[String: Any]]) ?? []
        }
    }

    let directory: URL
    let port: Int
    private let process: Process
    /// The server exits when this pipe's write end closes.
    private let lifeline = Pipe()

    var baseURL: String { "http://127.0.0.1:\(port)" }

    init(script: [[String: Any]] = []) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ship-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("requests"),
            withIntermediateDirectories: true)
        try Data(Self.python.utf8).write(to: directory.appendingPathComponent("server.py"))
        try JSONSerialization.data(withJSONObject: script).write(to: directory.appendingPathComponent("script.json"))
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", directory.appendingPathComponent("server.py").path, directory.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = lifeline
        try process.run()
        var line = ""
        while !line.contains("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            line += String(decoding: data, as: UTF8.self)
        }
        guard
            let port = Int(
                line.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "PORT ", with: ""))
        else {
            try? lifeline.fileHandleForWriting.close()
            process.terminate()
            throw ServerError.didNotStart(line)
        }
        self.port = port
    }

    deinit {
        try? lifeline.fileHandleForWriting.close()
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    enum ServerError: Error { case didNotStart(String) }

    /// Every request received so far, in arrival order.
    func requests() throws -> [Request] {
        let dir = directory.appendingPathComponent("requests")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }
            .sorted()
        return try names.map { name in
            let meta =
                try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(name)))
                as! [String: Any]
            let body = try Data(
                contentsOf: dir.appendingPathComponent(name.replacingOccurrences(of: ".json", with: ".body")))
            return Request(
                path: meta["path"] as! String, headers: meta["headers"] as! [String: String], body: [UInt8](body),
                time: meta["time"] as! Double, clientPort: (meta["client_port"] as? NSNumber)?.intValue ?? 0)
        }
    }

    static let python = #"""
        import gzip, json, os, signal, sys, threading, time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        # The test runner spawns us with SIGTERM blocked; unblock it, and also exit when the test
        # closes our stdin (or dies), or after 10 minutes, so no server outlives its test.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

        def watch_stdin():
            sys.stdin.buffer.read()
            os._exit(0)

        threading.Thread(target=watch_stdin, daemon=True).start()
        threading.Timer(600, lambda: os._exit(0)).start()

        workdir = sys.argv[1]
        script = json.load(open(os.path.join(workdir, "script.json")))
        lock = threading.Lock()
        counter = [0]

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with lock:
                    counter[0] += 1
                    n = counter[0]
                    step = script.pop(0) if script else {}
                base = os.path.join(workdir, "requests", "%06d" % n)
                with open(base + ".body", "wb") as f:
                    f.write(body)
                meta = {"path": self.path, "time": time.time(), "client_port": self.client_address[1],
                        "headers": {k.lower(): v for k, v in self.headers.items()}}
                with open(base + ".tmp", "w") as f:
                    json.dump(meta, f)
                os.rename(base + ".tmp", base + ".json")
                if step.get("delay_ms"):
                    time.sleep(step["delay_ms"] / 1000.0)
                if step.get("drop"):
                    self.close_connection = True
                    self.connection.close()
                    return
                raw = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
                try:
                    events = json.loads(raw)
                except Exception:
                    events = []
                status = step.get("status", 200)
                if "fail_indices" in step:
                    status = 400
                    key = step.get("insert_id_key", "insert_id")
                    failed = [{"index": i, key: events[i]["properties"]["$insert_id"], "field": "properties.time",
                               "message": "'properties.time' is invalid: must not be in the future"}
                              for i in step["fail_indices"]]
                    text = json.dumps({"code": 400, "error": "some data points in the request failed validation",
                                       "num_records_imported": len(events) - len(failed), "status": "Bad Request",
                                       "failed_records": failed})
                elif "body" in step:
                    text = step["body"]
                elif self.path.startswith("/track"):
                    text = '{"status":1,"error":null}'
                else:
                    text = json.dumps({"code": 200, "num_records_imported": len(events), "status": "OK"})
                data = text.encode()
                if any(k in step for k in ("stream_bytes", "unsized_bytes", "endless")):
                    return self.hostile(step)
                self.send_response(status)
                for k, v in step.get("headers", {}).items():
                    self.send_header(k, v)
                for i in range(step.get("header_count", 0)):
                    self.send_header("X-Pad-%d" % i, "p" * 90)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def hostile(self, step):
                chunk = b"x" * 65536
                self.close_connection = True
                self.send_response(200)
                if "stream_bytes" in step:
                    self.send_header("Content-Length", str(step["stream_bytes"]))
                if step.get("endless"):
                    self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Connection", "close")
                self.end_headers()
                left = step.get("stream_bytes", step.get("unsized_bytes", 1 << 40))
                try:
                    while left > 0:
                        piece = chunk[:left]
                        if step.get("endless"):
                            self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                        else:
                            self.wfile.write(piece)
                            left -= len(piece)
                except OSError:
                    pass  # the client stopped reading: the point of the test

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        print("PORT %d" % server.server_address[1], flush=True)
        server.serve_forever()
        """#
}
