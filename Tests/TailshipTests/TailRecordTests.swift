import Testing

@testable import Tailship

/// One record as a splitter handed it on.
private struct Record: Equatable {
    var offset: UInt64
    var text: String
    var truncated: Bool
    var basis: UInt64
}

/// A multiline config's framing, as `run`, `test` and `import` build it.
private func framing(
    _ boundary: MultilineConfig.Boundary = .start, pattern: String = #"^\d{4}-"#, preset: MultilinePreset? = nil,
    maxLines: Int = 500, maxBytes: Int = 1 << 20, timeoutMs: Int = 1000
) -> RecordFraming {
    var source = SourceConfig(
        name: "s", paths: ["/x"], timezone: Located("UTC", at: SourceMark(line: 1, column: 1)), rules: [],
        mark: SourceMark(line: 1, column: 1))
    let at = SourceMark(line: 1, column: 1)
    source.multiline = MultilineConfig(
        boundary: preset?.boundary ?? boundary, pattern: Located(preset?.pattern ?? pattern, at: at), preset: preset,
        maxLines: maxLines, maxBytes: maxBytes, timeoutMs: timeoutMs)
    return source.recordFraming!
}

/// Feeds `input` in chunks of `chunk` bytes from `start`, then flushes when asked; returns the
/// records, the last batch's end, and the splitter.
private func records(
    _ input: String, chunk: Int = 1 << 16, start: Int = 0, framing: RecordFraming, maxLineBytes: Int = 4096,
    flush: Bool = true
) -> (records: [Record], end: UInt64?, splitter: LineSplitter) {
    let bytes = Array(input.utf8)
    var splitter = LineSplitter(startOffset: UInt64(start), maxLineBytes: maxLineBytes, framing: framing)
    splitter.prime(head: Array(bytes.prefix(min(start, LineSplitter.headCapacity))))
    var out: [Record] = []
    var end: UInt64?
    let collect: (LineBatch) -> Void = { batch in
        for line in batch {
            out.append(
                Record(
                    offset: line.offset, text: String(decoding: line.bytes, as: UTF8.self), truncated: line.truncated,
                    basis: line.basis))
        }
        end = batch.endOffset
    }
    var position = start
    while position < bytes.count {
        let stop = min(position + chunk, bytes.count)
        bytes[position..<stop].withUnsafeBytes { splitter.feed($0, collect) }
        position = stop
    }
    if flush { splitter.flush(collect) }
    return (out, end, splitter)
}

/// The lines of `input` as a plain splitter frames them (for their offsets and bases).
private func plainLines(_ input: String) -> [Line.Snapshot] {
    var splitter = LineSplitter(maxLineBytes: 4096)
    var lines: [Line.Snapshot] = []
    var bytes = Array(input.utf8)
    bytes.withUnsafeMutableBytes { buffer in
        splitter.feed(UnsafeRawBufferPointer(buffer)) { batch in
            for line in batch { lines.append(Line.Snapshot(offset: line.offset, basis: line.basis)) }
        }
    }
    return lines
}

extension Line {
    fileprivate struct Snapshot: Equatable {
        var offset: UInt64
        var basis: UInt64
    }
}

private let javaLog = """
    2026-11-01T10:00:00Z INFO started
    2026-11-01T10:00:01Z ERROR Request failed
    java.lang.IllegalStateException: boom
    \tat com.example.Foo.bar(Foo.java:10)
    \tat com.example.Main.main(Main.java:5)
    Caused by: java.io.IOException: disk full
    \tat com.example.Disk.write(Disk.java:7)
    \t... 2 more
    2026-11-01T10:00:02Z INFO ok

    """

struct TailRecordTests {
    @Test(arguments: [1, 3, 17, 4096])
    func aStartPatternJoinsEachRecordWhateverTheChunking(chunk: Int) {
        let result = records(javaLog, chunk: chunk, framing: framing())
        let lines = javaLog.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(result.records.map(\.text) == [lines[0], lines[1...7].joined(separator: "\n"), lines[8]])
        // Each record is at its first line's offset, with its first line's basis (so its `$insert_id`).
        let plain = plainLines(javaLog)
        #expect(result.records.map(\.offset) == [plain[0].offset, plain[1].offset, plain[8].offset])
        #expect(result.records.map(\.basis) == [plain[0].basis, plain[1].basis, plain[8].basis])
        #expect(!result.records.contains { $0.truncated })
    }

    @Test func thePendingRecordHoldsTheCheckpointAtItsFirstLine() {
        let result = records(javaLog, framing: framing(), flush: false)
        let plain = plainLines(javaLog)
        // The last record ("INFO ok") waits for the next line that begins one.
        #expect(result.records.count == 2)
        #expect(result.end == plain[8].offset)
        #expect(result.splitter.lineStartOffset == plain[8].offset)
        #expect(result.splitter.recordDeadline != nil)
    }

    /// A restart at the checkpoint recorded mid-record (the record's first line) reads it whole,
    /// at the same offset and with the same basis as an uninterrupted read.
    @Test func aRestartAtThePendingRecordReadsItWhole() {
        let half = String(javaLog.prefix(through: javaLog.range(of: "Foo.java:10)")!.upperBound))
        let first = records(half + "\n", framing: framing(), flush: false)
        let checkpoint = Int(first.splitter.lineStartOffset)
        #expect(first.records.map(\.text) == ["2026-11-01T10:00:00Z INFO started"])
        let resumed = records(javaLog, start: checkpoint, framing: framing())
        let whole = records(javaLog, framing: framing())
        #expect(resumed.records == Array(whole.records.dropFirst()))
    }

    @Test func theJavaPresetKeepsATraceWithItsLogLine() {
        let result = records(javaLog, framing: framing(preset: .java))
        #expect(result.records.count == 3)
        #expect(result.records[1].text.hasPrefix("2026-11-01T10:00:01Z ERROR Request failed\njava.lang."))
        #expect(result.records[1].text.hasSuffix("\t... 2 more"))
    }

    @Test func theJavaPresetDoesNotSwallowOrdinaryLines() {
        let log = """
            NullPointerException happened in the handler
            Exception in thread "main" java.lang.RuntimeException: x
            \tat A.b(A.java:1)
            plain line

            """
        let texts = records(log, framing: framing(preset: .java)).records.map(\.text)
        #expect(
            texts == [
                "NullPointerException happened in the handler",
                "Exception in thread \"main\" java.lang.RuntimeException: x\n\tat A.b(A.java:1)", "plain line",
            ])
    }

    @Test func thePythonPresetKeepsAChainedTracebackWithItsLogLine() {
        let log = """
            2026-11-01 10:00:01,123 ERROR app: unhandled
            Traceback (most recent call last):
              File "/app/x.py", line 10, in <module>
                load()
            KeyError: 'user'

            During handling of the above exception, another exception occurred:

            Traceback (most recent call last):
              File "/app/x.py", line 12, in <module>
                fail()
            ValueError: bad value
            2026-11-01 10:00:02,000 INFO app: next

            """
        let texts = records(log, framing: framing(preset: .python)).records.map(\.text)
        #expect(texts.count == 2)
        #expect(texts[0].hasPrefix("2026-11-01 10:00:01,123 ERROR app: unhandled\nTraceback"))
        #expect(texts[0].hasSuffix("ValueError: bad value"))
        #expect(texts[1] == "2026-11-01 10:00:02,000 INFO app: next")
    }

    @Test func aContinuationPatternJoinsIndentedLines() {
        let log = "a\n  b\n  c\nd\n\te\n"
        let texts = records(log, framing: framing(.continuation, pattern: #"^\s"#)).records.map(\.text)
        #expect(texts == ["a\n  b\n  c", "d\n\te"])
    }

    /// A line that continues a record but finds none (the first after a start) begins one: never dropped.
    @Test func anOrphanContinuationBeginsARecord() {
        let texts = records("\tat A.b\n\tat C.d\nx\n", framing: framing(.continuation, pattern: #"^\s"#)).records
        #expect(texts.map(\.text) == ["\tat A.b\n\tat C.d", "x"])
    }

    /// A line that would take a record past `max_lines` completes it (flagged: cut short) and
    /// begins the next: the record never holds the checkpoint back, no line is skipped.
    @Test func aRecordAtMaxLinesIsCompleteAndTheNextLineBeginsAnother() {
        let log = "2026-a\n1\n2\n3\n4\n2026-b\n"
        let result = records(log, framing: framing(maxLines: 3), flush: false)
        #expect(result.records.map(\.text) == ["2026-a\n1\n2", "3\n4"])
        #expect(result.records.map(\.truncated) == [true, false])
        #expect(result.records[1].offset == 11)
        #expect(result.end == 15)
    }

    /// A record whose continuation never stops (a start pattern that matches nothing in this log)
    /// still goes out every `max_lines` lines: progress, not a pinned checkpoint.
    @Test func aStartPatternThatNeverMatchesStillMakesProgress() {
        let log = (0..<10).map { "[line \($0)]\n" }.joined()
        let result = records(log, framing: framing(maxLines: 4), flush: false)
        #expect(result.records.count == 2)
        #expect(result.splitter.lineStartOffset == UInt64(log.utf8.count - 2 * 9))
    }

    @Test func aRecordIsCutAtMaxBytes() {
        let log = "2026-a\nabcde\nghijkl\n2026-b\n"
        let result = records(log, framing: framing(maxBytes: 12))
        #expect(result.records.map(\.text) == ["2026-a\nabcde", "ghijkl", "2026-b"])
        #expect(result.records.map(\.truncated) == [true, false, false])
        #expect(result.splitter.pendingByteCount == 0)
    }

    @Test func aLineLongerThanMaxBytesIsARecordOfItsOwn() {
        let log = "2026-" + String(repeating: "x", count: 20) + "\n  at a\n2026-b\n"
        let result = records(log, framing: framing(maxBytes: 10))
        #expect(result.records.map(\.text) == ["2026-xxxxx", "  at a", "2026-b"])
        #expect(result.records.map(\.truncated) == [true, false, false])
    }

    @Test func aLineCutAtMaxLineBytesFlagsItsRecordButKeepsTheRest() {
        let log = "2026-" + String(repeating: "x", count: 40) + "\nnext\n2026-b\n"
        let result = records(log, framing: framing(), maxLineBytes: 10)
        #expect(result.records.map(\.text) == ["2026-xxxxx\nnext", "2026-b"])
        #expect(result.records.map(\.truncated) == [true, false])
    }

    /// A record whose writer stops is complete once its timeout passes, and not before; the batch
    /// ends past its last complete line, not past a partial line that follows.
    @Test func aRecordLeftUnfinishedIsCompleteAfterItsTimeout() {
        var result = records("2026-a\n  at x\npart", framing: framing(timeoutMs: 50), flush: false)
        #expect(result.records.isEmpty)
        let deadline = result.splitter.recordDeadline!
        var handed: [(String, UInt64)] = []
        let early = result.splitter.completeRecordIfDue(now: deadline - .milliseconds(1)) { _ in Issue.record() }
        #expect(!early)
        let due = result.splitter.completeRecordIfDue(now: deadline) { batch in
            for record in batch { handed.append((String(decoding: record.bytes, as: UTF8.self), batch.endOffset)) }
        }
        #expect(due)
        #expect(handed.map(\.0) == ["2026-a\n  at x"])
        #expect(handed.map(\.1) == [14])
        #expect(result.splitter.lineStartOffset == 14)
        #expect(result.splitter.recordDeadline == nil)
    }

    @Test func carriageReturnsDoNotEndUpInsideARecord() {
        let texts = records("2026-a\r\n  b\r\n2026-c\r\n", framing: framing()).records.map(\.text)
        #expect(texts == ["2026-a\n  b", "2026-c"])
    }

    /// `check` runs a multiline source's `tests:` on records: a test whose text frames as two is a failure.
    @Test func ruleTestsOfAMultilineSourceRunOnRecords() throws {
        let yaml = """
            state_dir: /tmp/tailship-record-tests
            destination: { kind: stdout }
            sources:
              - name: app
                paths: [/tmp/none.log]
                multiline: { preset: java }
                rules:
                  - name: error
                    match: '(?s)^(?<ts>\\S+) ERROR (?<msg>[^\\n]*)\\n(?<exception>[\\w.$]+)'
                    event: Exception Raised
                    distinct_id: host
                    time: { field: ts, format: iso8601 }
                    properties: { exception: "{{exception}}" }
                tests:
                  - line: |
                      2026-11-01T10:00:01Z ERROR Request failed
                      java.lang.IllegalStateException: boom
                      \tat com.example.Foo.bar(Foo.java:10)
                    properties: { exception: java.lang.IllegalStateException }
                  - line: |
                      2026-11-01T10:00:01Z ERROR Request failed
                      plain line that is no trace
                    event: Exception Raised
            """
        let path = "/tmp/tailship-record-tests.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let plan = try AgentPlan.load(path: path, environment: [:], checkSecrets: false)
        let report = plan.runRuleTests(nowMs: 1_900_000_000_000)
        #expect(report.passed == 1)
        #expect(report.failures.count == 1)
        #expect(report.failures.first?.contains("frames as 2 records under 'multiline'") == true)
    }
}
