import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Multiline records (docs/rules.md, "Multiline records") with the default `start_at: end`: a
/// Java stack trace with its log line is one record and one event, sent once and whole, when the
/// agent is stopped, reloaded or killed in the middle of it, and when its file is rotated in the
/// middle of it (the writer finishing the trace through its old descriptor).
@Suite(.serialized) struct MultilineEndToEndTests {
    static func config(dir: String, port: Int, paths: String, timeout: String) -> String {
        """
        state_dir: \(dir)/state
        destination:
          url: http://127.0.0.1:\(port)
          project_id: "42"
          auth: { username: e2e.sa, secret_env: E2E_SECRET }
          batch: { max_events: 40, flush_interval: 100ms }
          retry: { initial_backoff: 100ms, max_backoff: 1s }
        sources:
          - name: app
            paths: ["\(dir)/logs/\(paths)"]
            multiline: { preset: java, timeout: \(timeout) }
            rules:
              - name: error
                match: '(?s)^(?<ts>\\d+) ERROR seq=(?<seq>\\d+) user=(?<user>\\w+)\\n(?<exception>[\\w.$]+):.*\\n\\tat (?<last>[^\\n]*)\\z'
                event: Exception Raised
                distinct_id: "{{user}}"
                time: { field: ts, format: unix_ms }
                properties:
                  seq: { value: "{{seq}}", type: int }
                  exception: "{{exception}}"
                  last_frame: "{{last}}"
        """
    }

    /// Record `seq`: its log line, the exception line, five frames, `Caused by:`, `... 3 more`
    /// and a last frame naming `seq` (present only when the record arrived whole). Split in two
    /// at `split` lines.
    static func record(_ seq: Int) -> [String] {
        let time = FaultEndToEndTests.pastMs + Int64(seq)
        return ["\(time) ERROR seq=\(seq) user=u\(seq % 3)", "java.lang.IllegalStateException: boom \(seq)"]
            + (1...5).map { "\tat com.example.Frame\($0).run(Frame.java:\($0))" }
            + ["Caused by: java.io.IOException: disk", "\t... 3 more", "\tat com.example.Last.end(Last.java:\(seq))"]
    }

    static func text(_ lines: some Sequence<String>) -> String { lines.map { $0 + "\n" }.joined() }

    /// A log line that ends the record before it (it matches no rule).
    static let done = "\(FaultEndToEndTests.pastMs) INFO done\n"

    /// Every expected record arrived once, as one event, whole (its own last frame).
    static func assertWhole(_ rig: PositionsRig, seqs: Range<Int>) throws {
        for event in try rig.server.storedEvents(dedup: true) {
            let seq = try #require(event.properties["seq"] as? Int)
            #expect(event.properties["exception"] as? String == "java.lang.IllegalStateException")
            #expect(
                event.properties["last_frame"] as? String == "com.example.Last.end(Last.java:\(seq))",
                "record \(seq) arrived cut: \(event.properties)")
        }
        try FaultEndToEndTests.assertExactlyOnce(rig.server, expected: seqs)
    }

    static func rig(_ name: String, paths: String = "*.log", timeout: String = "30s", extra: String = "") throws
        -> PositionsRig
    {
        let rig = try PositionsRig(name, startAt: .defaultEnd)
        var text = config(dir: rig.dir, port: rig.server.port, paths: paths, timeout: timeout)
        if !extra.isEmpty {
            text = text.replacingOccurrences(of: "    multiline:", with: "    \(extra)\n    multiline:")
        }
        try text.write(toFile: rig.configPath, atomically: true, encoding: .utf8)
        return rig
    }

    /// Starts the agent on `app.log`, which already holds a line (default `start_at: end`: the
    /// agent settles at its end), and returns the file's path.
    static func startOnAppLog(_ rig: PositionsRig) throws -> String {
        let app = rig.path("app.log")
        try append("\(FaultEndToEndTests.pastMs) INFO before the agent\n", to: app)
        try rig.start()
        usleep(300_000)
        return app
    }

    /// Writes record 0 and the first four lines of record 1, and waits until record 0 (which
    /// record 1's first line completes) arrived, and record 1's lines were read.
    static func deliverRecordZeroWithRecordOneHalfWritten(_ rig: PositionsRig, app: String) throws {
        try append(Self.text(Self.record(0) + Self.record(1).prefix(4)), to: app)
        #expect(try rig.waitForUnique(1), "record 0 never arrived; log:\n\(rig.logTail)")
        usleep(300_000)
    }

    /// Record 1 is half written when the agent is stopped, reloaded or killed (record 0, which
    /// its first line completed, already delivered); its other half is written meanwhile. After
    /// the restart it arrives once and whole, under the key an uninterrupted run gives it.
    @Test(arguments: PositionsEndToEndTests.Interruption.allCases)
    func aRecordSplitByAnInterruptionIsSentOnceWhole(interruption: PositionsEndToEndTests.Interruption) throws {
        let rig = try Self.rig("ml-\(interruption)")
        let app = try Self.startOnAppLog(rig)
        let one = Self.record(1)
        // Record 1 has been read as far as written: its first four lines wait for the rest.
        try Self.deliverRecordZeroWithRecordOneHalfWritten(rig, app: app)
        switch interruption {
        case .sigterm:
            rig.stop()
            try append(Self.text(one.dropFirst(4) + Self.record(2)) + Self.done, to: app)
            try rig.start()
        case .kill9:
            rig.kill9()
            try append(Self.text(one.dropFirst(4) + Self.record(2)) + Self.done, to: app)
            try rig.start()
        case .sighup:
            try rig.reload()
            try append(Self.text(one.dropFirst(4) + Self.record(2)) + Self.done, to: app)
        }
        #expect(try rig.waitForUnique(3), "\(interruption): records lost; log:\n\(rig.logTail)")
        usleep(600_000)
        rig.stop()
        try Self.assertWhole(rig, seqs: 0..<3)
    }

    /// How `app.log` is rotated in the middle of a record, and what the source follows.
    enum Rotation: String, CaseIterable, Sendable, CustomStringConvertible {
        /// Live, `paths: app.log`: the renamed file is drained through its descriptor and closed.
        case drained
        /// Live, `paths: app.log*`: the renamed file is still followed, under its new name.
        case followed
        /// `paths: app.log*`, the agent killed right after the rename; the trace finished while it is down.
        case killed
        /// `paths: app.log`, SIGTERM once the trace is finished through the old descriptor, before
        /// the drained file closes: the next run does not find that file, so its record goes now.
        case stopped

        var description: String { rawValue }
        var paths: String { self == .drained || self == .stopped ? "app.log" : "app.log*" }
    }

    /// `app.log` is renamed to `app.log.1` in the middle of record 0, a new `app.log` is created,
    /// and the writer finishes the trace through the old descriptor. Record 0 arrives whole, once:
    /// when the drained file closes, or when its timeout passes (nothing more being written there).
    @Test(arguments: Rotation.allCases)
    func aRecordSplitByARotationIsSentOnceWhole(rotation: Rotation) throws {
        let rig = try Self.rig("ml-rotate-\(rotation)", paths: rotation.paths, timeout: "3s")
        let app = try Self.startOnAppLog(rig)
        let writer = try #require(FileHandle(forWritingAtPath: app))
        writer.seekToEndOfFile()
        let zero = Self.record(0)
        writer.write(Data(Self.text(zero.prefix(3)).utf8))
        usleep(500_000)
        #expect(rename(app, app + ".1") == 0)
        // The application opens its new file at once; the agent records it (empty, so read from
        // its first byte) before it is killed: with `start_at: end`, a file first seen at a later
        // start would begin at its end.
        #expect(FileManager.default.createFile(atPath: app, contents: nil))
        if rotation == .killed {
            usleep(500_000)
            rig.kill9()
        }
        writer.write(Data(Self.text(zero.dropFirst(3)).utf8))
        try writer.close()
        if rotation == .stopped {
            usleep(300_000)
            rig.stop()
            try rig.start()
        }
        try append(Self.text(Self.record(1)) + Self.done, to: app)
        if rotation == .killed { try rig.start() }
        #expect(try rig.waitForUnique(2), "records lost; log:\n\(rig.logTail)")
        usleep(600_000)
        rig.stop()
        try Self.assertWhole(rig, seqs: 0..<2)
    }

    /// logrotate `copytruncate` while record 1 is pending (record 0 delivered): the lines of
    /// record 1 read before the truncation go out as a record (its trace continued in the copy,
    /// which no glob matches), and the records written after it follow. Nothing read is lost.
    @Test func aCopytruncateInTheMiddleOfARecordLosesNothingRead() throws {
        let rig = try Self.rig("ml-copytruncate", paths: "app.log")
        let app = try Self.startOnAppLog(rig)
        try Self.deliverRecordZeroWithRecordOneHalfWritten(rig, app: app)
        let conf = rig.dir + "/logrotate.conf"
        try "\(app) {\ncopytruncate\nrotate 1\n}\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let logrotate = Process()
        logrotate.executableURL = URL(fileURLWithPath: "/usr/sbin/logrotate")
        logrotate.arguments = ["-f", "-s", rig.dir + "/logrotate.state", conf]
        try logrotate.run()
        logrotate.waitUntilExit()
        #expect(logrotate.terminationStatus == 0)
        usleep(500_000)
        try append(Self.text(Self.record(2)) + Self.done, to: app)
        #expect(try rig.waitForUnique(3), "records lost; log:\n\(rig.logTail)")
        usleep(600_000)
        rig.stop()
        let byseq = Dictionary(
            grouping: try rig.server.storedEvents(dedup: true), by: { $0.properties["seq"] as? Int ?? -1 })
        // Record 1 as read before the truncation: its first four lines, the last of them a frame.
        #expect(byseq[1]?.first?.properties["last_frame"] as? String == "com.example.Frame2.run(Frame.java:2)")
        try FaultEndToEndTests.assertExactlyOnce(rig.server, expected: 0..<3)
    }

    /// `test` and `import` frame records as `run` does: the same events, each whole, and `test`'s
    /// summary counts the lines and the records they made. The file ends mid-record, without a
    /// newline: a file read once is complete, so its last record is too.
    @Test func testAndImportReadRecordsAsRunDoes() throws {
        let rig = try Self.rig("ml-import")
        let file = rig.path("app.log.1")
        let log = Self.text(["\(FaultEndToEndTests.pastMs) INFO started"] + (0..<4).flatMap(Self.record))
        try append(String(log.dropLast()), to: file)
        let tested = try TailshipProcess.run(["test", "-c", rig.configPath, file])
        #expect(tested.status == 0, "\(tested.stderr)")
        let events = tested.stdout.split(separator: "\n")
        #expect(events.count == 4)
        #expect(events.allSatisfy { $0.contains(#""last_frame":"com.example.Last.end(Last.java:"#) })
        #expect(tested.stderr.contains("summary: 41 lines in 5 records, 4 events, 0 invalid"), "\(tested.stderr)")

        let imported = try TailshipProcess.run(
            ["import", "-c", rig.configPath, "--source", "app", file], env: ["E2E_SECRET": FaultEndToEndTests.secret])
        #expect(imported.status == 0, "\(imported.stderr)")
        try Self.assertWhole(rig, seqs: 0..<4)
    }

    /// examples/service.yaml on the log scripts/gen_service_log.py writes (purchases, logins,
    /// health checks, warnings, debug lines, errors with Java traces, an unparseable amount now
    /// and then): `test`'s summary gives exactly the generator's counts, its rule tests pass
    /// under `check`, and the invalid events make it exit 1.
    @Test func theServiceExampleSummarisesWhatItsRulesMake() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let dir = try makeTempDir("ml-service")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = dir + "/service.log"
        let generator = Process()
        generator.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        generator.arguments = ["python3", root + "/scripts/gen_service_log.py", log, "--lines", "3000"]
        let pipe = Pipe()
        generator.standardOutput = pipe
        try generator.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        generator.waitUntilExit()
        let counts = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Int])
        let config = root + "/examples/service.yaml"
        let checked = try TailshipProcess.run(["check", "-c", config])
        #expect(checked.status == 0 && checked.stderr.contains("tests: 2 passed, 0 failed"), "\(checked.stderr)")

        let tested = try TailshipProcess.run(["test", "-c", config, log])
        #expect(tested.status == 1, "invalid events make test fail: \(tested.stderr)")
        let expected =
            "summary: \(counts["lines"]!) lines in \(counts["records"]!) records, \(counts["events"]!) events, "
            + "\(counts["invalid"]!) invalid (would be dead-lettered), \(counts["unmatched"]!) unmatched, "
            + "\(counts["dropped"]!) dropped in "
        #expect(tested.stderr.contains(expected), "\(tested.stderr.suffix(1500))")
        #expect(tested.stdout.split(separator: "\n").count == counts["events"]!)
        #expect(tested.stderr.contains("WARN [http-N-N] slow query on orders took Nms rows=N"))
    }

    /// A polled source (`poll_interval: 1s`) with a `timeout` shorter than its polls: each trace's
    /// rest is on disk, unread, when its timeout passes; it is read before the record is judged
    /// complete, so every trace still arrives whole.
    @Test func aTimeoutShorterThanThePollsDoesNotCutATraceAlreadyOnDisk() throws {
        let rig = try Self.rig("ml-polled", timeout: "500ms", extra: "poll_interval: 1s")
        let app = rig.path("app.log")
        try append("\(FaultEndToEndTests.pastMs) INFO before the agent\n", to: app)
        try rig.start()
        usleep(1_200_000)
        let count = 8
        for seq in 0..<count {
            let record = Self.record(seq)
            try append(Self.text(record.prefix(2)), to: app)
            usleep(300_000)
            try append(Self.text(record.dropFirst(2)), to: app)
            usleep(200_000)
        }
        try append(Self.done, to: app)
        #expect(try rig.waitForUnique(count), "records lost; log:\n\(rig.logTail)")
        usleep(600_000)
        rig.stop()
        try Self.assertWhole(rig, seqs: 0..<count)
    }

    /// A record nothing follows (the application's last words) is sent once its timeout passes.
    @Test func aRecordNothingFollowsIsSentAfterItsTimeout() throws {
        let rig = try Self.rig("ml-timeout", timeout: "500ms")
        let app = try Self.startOnAppLog(rig)
        let written = Date()
        try append(Self.text(Self.record(0)), to: app)
        #expect(try rig.waitForUnique(1, timeout: 10), "log:\n\(rig.logTail)")
        let waited = Date().timeIntervalSince(written)
        #expect(waited >= 0.5, "sent after \(waited) s, before its timeout")
        rig.stop()
        try Self.assertWhole(rig, seqs: 0..<1)
    }

    /// `tail -f app.log | tailship test`: a trace written to a pipe that stays open is shown once
    /// its timeout passes with no new line, whole, as `run` would send it, not only when the
    /// input ends; the next trace is framed as before.
    @Test func testOnALivePipeShowsARecordAfterItsTimeout() throws {
        let dir = try makeTempDir("ml-live-test")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/agent.yaml"
        try Self.config(dir: dir, port: 9, paths: "*.log", timeout: "300ms")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = TailshipProcess.binary
        process.arguments = ["test", "-c", config]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Lines arrive as they are read, a line at a time: the reader sees what was written so far.
        let lines = LineReader(output.fileHandleForReading)
        for seq in 0..<2 {
            let written = Date()
            input.fileHandleForWriting.write(Data(Self.text(Self.record(seq)).utf8))
            let event = try #require(lines.next(timeout: 10), "record \(seq) never shown while the pipe is open")
            let waited = Date().timeIntervalSince(written)
            #expect(waited >= 0.3, "record \(seq) shown after \(waited) s, before its timeout")
            #expect(
                event.contains(#""seq":\#(seq)"#)
                    && event.contains(#""last_frame":"com.example.Last.end(Last.java:\#(seq))""#))
        }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(lines.next(timeout: 1) == nil, "nothing more at the end of the input")
    }
}

/// Reads lines from a pipe on a thread of its own, so a test can wait for the next one with a
/// timeout.
final class LineReader: @unchecked Sendable {
    // @unchecked: `lines` and `ended` are guarded by `condition`.
    private let condition = NSCondition()
    private var lines: [String] = []
    private var ended = false

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            var pending = Data()
            while true {
                let data = handle.availableData
                condition.lock()
                if data.isEmpty {
                    ended = true
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                pending.append(data)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    /// The next line, or nil when none came within `timeout` seconds or the pipe ended.
    func next(timeout: Double) -> String? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while lines.isEmpty && !ended {
            if !condition.wait(until: deadline) { break }
        }
        return lines.isEmpty ? nil : lines.removeFirst()
    }
}
