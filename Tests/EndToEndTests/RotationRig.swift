import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// An application writing numbered log lines at speed from a thread of its own, through one
/// descriptor opened `O_APPEND` that it keeps until told to reopen (as a daemon does on the
/// `postrotate` HUP). Line `seq` is `<ms> order seq=<seq> user=u<seq % 5>`, so every line is one
/// distinct event under (event, distinct_id, time, `$insert_id`).
final class LineWriter: @unchecked Sendable {
    private struct State {
        var fd: Int32 = -1
        var next: Int
        var paused = false
        var stopped = false
    }

    let path: String
    private let state: Mutex<State>
    private let linesPerBatch: Int
    private let done = DispatchSemaphore(value: 0)

    /// Starts writing to `path` (created if missing) from `firstSeq` on, `linesPerBatch` lines
    /// per `write(2)` about every 2 ms.
    init(path: String, firstSeq: Int = 0, linesPerBatch: Int = 10) {
        self.path = path
        self.linesPerBatch = linesPerBatch
        state = Mutex(State(next: firstSeq))
        state.withLock { $0.fd = Self.openAppend(path) }
        let thread = Thread { [self] in loop() }
        thread.name = "rotation-writer"
        thread.start()
    }

    /// The text of line `seq`.
    static func line(_ seq: Int) -> String {
        "\(FaultEndToEndTests.pastMs + Int64(seq)) order seq=\(seq) user=u\(seq % 5)\n"
    }

    /// The lines `range` as one string.
    static func lines(_ range: Range<Int>) -> String { range.map(line).joined() }

    /// Returns once no write is in progress and none will start until `resume()`.
    func pause() { state.withLock { $0.paused = true } }

    func resume() { state.withLock { $0.paused = false } }

    /// Closes the descriptor and opens `path` again (creating it if it is missing).
    func reopen() {
        state.withLock {
            close($0.fd)
            $0.fd = Self.openAppend(path)
        }
    }

    /// Writes `count` lines at once, now, on the caller's thread (the writer may be paused).
    func burst(_ count: Int) {
        state.withLock { state in
            Self.write(Self.lines(state.next..<state.next + count), to: state.fd)
            state.next += count
        }
    }

    /// The next sequence number: every line below it was written.
    var next: Int { state.withLock { $0.next } }

    /// Stops the thread and closes the descriptor; returns the next sequence number.
    @discardableResult
    func stop() -> Int {
        let wasRunning = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        if wasRunning { done.wait() }
        return state.withLock { state in
            if state.fd >= 0 { close(state.fd) }
            state.fd = -1
            return state.next
        }
    }

    deinit { stop() }

    private func loop() {
        while true {
            let stopped = state.withLock { state -> Bool in
                if state.stopped { return true }
                if !state.paused {
                    Self.write(Self.lines(state.next..<state.next + linesPerBatch), to: state.fd)
                    state.next += linesPerBatch
                }
                return false
            }
            if stopped { break }
            usleep(2_000)
        }
        done.signal()
    }

    private static func openAppend(_ path: String) -> Int32 {
        open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    }

    private static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            precondition(n > 0, "writer: write failed: \(String(cString: strerror(errno)))")
            offset += n
        }
    }
}

/// One rotation case: a temp directory with `logs/`, the local ingestion server, a config whose
/// source follows `paths` (relative to `logs/`), the agent, and `logrotate` driven with a
/// generated config and its own state file.
final class RotationRig {
    let dir: String
    let logs: String
    let server: IngestServer
    let configPath: String
    private(set) var agent: AgentProcess?

    /// `startAt` is the source's `start_at` (nil leaves it out: the default, `end`); `linkTargets`
    /// are directories beside `logs/` (see `makeDirectory`) that matched links may lead into.
    init(
        _ name: String, paths: [String] = ["app.log"], exclude: [String] = [], startAt: String? = "beginning",
        linkTargets: [String] = []
    ) throws {
        dir = try makeTempDir("rot-\(name)")
        logs = dir + "/logs"
        server = try FaultEndToEndTests.server()
        configPath = dir + "/agent.yaml"
        let globs = paths.map { "\"\(logs)/\($0)\"" }.joined(separator: ", ")
        let excludes = exclude.map { "\"\($0)\"" }.joined(separator: ", ")
        let targets = linkTargets.map { "\"\(dir)/\($0)\"" }.joined(separator: ", ")
        let config = """
            state_dir: \(dir)/state
            destination:
              url: http://127.0.0.1:\(server.port)
              project_id: "42"
              auth: { username: e2e.sa, secret_env: E2E_SECRET }
              batch: { max_events: 200, flush_interval: 100ms }
              retry: { initial_backoff: 50ms, max_backoff: 500ms }
            sources:
              - name: app
                paths: [\(globs)]
                exclude: [\(excludes)]
                link_targets: [\(targets)]
                \(startAt.map { "start_at: \($0)" } ?? "")
                rules:
                  \(FaultEndToEndTests.orderRule)
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func path(_ name: String) -> String { logs + "/" + name }

    /// Starts `tailship run`; returns once it has logged that it opened something or 1 s passed.
    func startAgent() throws {
        agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
    }

    /// SIGTERM; expects a clean exit.
    func stopAgent() {
        guard let agent else { return }
        #expect(agent.terminate() == 0, "agent log:\n\(log)")
        self.agent = nil
    }

    /// SIGKILL: no chance to flush or save anything.
    func killAgent() {
        agent?.kill9()
        agent = nil
    }

    var log: String { (try? String(contentsOfFile: dir + "/agent.log", encoding: .utf8)) ?? "" }

    /// Runs `logrotate -f -s <state> <conf>` with `directives` for `logs/app.log`.
    func logrotate(_ directives: String, file: String = "app.log") throws {
        let conf = dir + "/logrotate.conf"
        try "\(path(file)) {\n\(directives)\n}\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/logrotate")
        process.arguments = ["-f", "-s", dir + "/logrotate.state", conf]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        try process.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "logrotate failed: \(output)")
    }

    /// Waits until the server holds `expected.count` distinct events (or 15 s), gives a late
    /// duplicate a moment to show, stops the agent, then checks the exact set: every expected
    /// line present, nothing else, and every copy of a line under the same dedup key.
    func assertExactly(
        _ expected: Set<Int>, timeout: TimeInterval = 15, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let arrived = try eventually(timeout: timeout) { try server.storedEvents(dedup: true).count >= expected.count }
        let have = try server.storedEvents(dedup: true).count
        #expect(
            arrived, "only \(have) of \(expected.count) arrived; agent log:\n\(log)",
            sourceLocation: sourceLocation)
        usleep(600_000)
        stopAgent()
        var keyBySeq: [Int: String] = [:]
        var repeated: Set<Int> = []
        for event in try server.storedEvents() {
            let seq = try #require(event.properties["seq"] as? Int, sourceLocation: sourceLocation)
            let key = "\(event.event)|\(event.distinctID)|\(event.timeMs)|\(event.insertID)"
            if let previous = keyBySeq[seq], previous != key { repeated.insert(seq) }
            keyBySeq[seq] = key
        }
        let got = Set(keyBySeq.keys)
        let missing = expected.subtracting(got)
        let extra = got.subtracting(expected)
        #expect(
            missing.isEmpty, "\(missing.count) lines missing, e.g. \(missing.sorted().prefix(10))",
            sourceLocation: sourceLocation)
        #expect(
            extra.isEmpty, "\(extra.count) unexpected lines, e.g. \(extra.sorted().prefix(10))",
            sourceLocation: sourceLocation)
        #expect(
            repeated.isEmpty,
            "\(repeated.count) lines repeated under another key, e.g. \(repeated.sorted().prefix(10))",
            sourceLocation: sourceLocation)
        let dedup = try server.storedEvents(dedup: true).count
        #expect(
            dedup == expected.count, "\(dedup) distinct events for \(expected.count) lines",
            sourceLocation: sourceLocation)
        if !(missing.isEmpty && extra.isEmpty && repeated.isEmpty) {
            Issue.record("agent log:\n\(log)", sourceLocation: sourceLocation)
        }
    }

    /// Inode of `logs/<name>`, or nil when it does not exist.
    func inode(_ name: String) -> UInt64? {
        var st = stat()
        return stat(path(name), &st) == 0 ? UInt64(st.st_ino) : nil
    }

    /// Creates `logs/<name>` with `contents` on the freed inode `inode`. ext4 hands a freed inode
    /// to the next file created, but another process on the machine may take it first: files
    /// are created beside it until one gets it, then renamed into place (a rename keeps the
    /// inode), and the others removed.
    func createReusingInode(_ inode: UInt64, name: String, contents: String) throws {
        var spares: [String] = []
        defer { for spare in spares { unlink(spare) } }
        for attempt in 0..<500 {
            let candidate = path(".reuse-\(attempt)")
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { continue }
            var st = stat()
            fstat(fd, &st)
            if UInt64(st.st_ino) == inode {
                close(fd)
                try append(contents, to: candidate)
                guard rename(candidate, path(name)) == 0 else { break }
                return
            }
            close(fd)
            spares.append(candidate)
        }
        Issue.record("inode \(inode) was not reused within 500 new files")
    }

    /// Waits until the server holds every line below `count`: the agent has caught up.
    func waitForCatchUp(_ count: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let caught = try eventually(timeout: 10) { try server.storedEvents(dedup: true).count >= count }
        #expect(caught, "agent did not catch up to \(count) lines; log:\n\(log)", sourceLocation: sourceLocation)
    }

    deinit {
        agent?.kill9()
        server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
