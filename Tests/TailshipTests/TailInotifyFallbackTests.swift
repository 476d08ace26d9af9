import Foundation
import Logging
import Synchronization
import Testing

@testable import Tailship

/// A log handler that keeps every message, for asserting what the tailer said (and how often).
final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    let messages = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.withLock { $0.append(event.message.description) }
    }

    func count(_ prefix: String) -> Int { messages.withLock { $0.filter { $0.hasPrefix(prefix) }.count } }
}

/// A sink that blocks the tail thread on its first lines until released (so inotify events pile up).
final class GateSink: LineSink, @unchecked Sendable {
    let inner = CollectingSink()
    let gate = DispatchSemaphore(value: 0)
    let blocked = Atomic<Bool>(false)
    private let once = Atomic<Bool>(false)

    func fileOpened(_ opening: FileOpening) {
        inner.fileOpened(opening)
    }

    func lines(file: Int, _ batch: LineBatch) {
        if !once.exchange(true, ordering: .acquiringAndReleasing) {
            blocked.store(true, ordering: .releasing)
            gate.wait()
        }
        inner.lines(file: file, batch)
    }

    func fileClosed(file: Int, reason: FileCloseReason) { inner.fileClosed(file: file, reason: reason) }
}

@Suite(.serialized)
struct TailInotifyFallbackTests {
    @Test func noticeLogsTheFirstThenOncePerInterval() {
        var notice = FallbackNotice()
        let start = ContinuousClock.now
        #expect(notice.shouldLog(now: start, interval: .seconds(60)) == 1)
        for step in 1...100 {
            #expect(notice.shouldLog(now: start + .milliseconds(step), interval: .seconds(60)) == nil)
        }
        #expect(notice.shouldLog(now: start + .seconds(61), interval: .seconds(60)) == 101)
    }

    /// More events than the kernel queue holds (16384 by default) while the tail thread is blocked:
    /// one overflow line, a full rescan, and every line still arrives exactly once.
    @Test func queueOverflowFallsBackToARescanAndSaysSoOnce() throws {
        let queued =
            (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 16384
        try #require(queued <= 100_000, "queue too large to overflow quickly")
        let dir = try TailTempDir()
        dir.write("a.log", "")
        dir.write("b.log", "")
        let sink = GateSink()
        let handler = CapturingLogHandler()
        var options = TailTailerTests.fastOptions
        options.rescanInterval = .seconds(60)  // only the overflow may trigger a rescan
        let tailer = Tailer(
            sources: [TailSource(name: "app", paths: [dir.root + "/*.log"], startAt: .beginning)], sink: sink,
            options: options, logger: Logger(label: "test", factory: { _ in handler }))
        try tailer.start()
        defer { tailer.stop() }
        dir.append("a.log", "first\n")
        #expect(eventually { sink.blocked.load(ordering: .acquiring) })
        // Alternate files so the kernel cannot merge consecutive identical events.
        let a = open(dir.path("a.log"), O_WRONLY | O_APPEND)
        let b = open(dir.path("b.log"), O_WRONLY | O_APPEND)
        defer {
            close(a)
            close(b)
        }
        let rounds = queued / 2 + 500
        for index in 0..<rounds {
            _ = "a \(index)\n".withCString { write(a, $0, strlen($0)) }
            _ = "b \(index)\n".withCString { write(b, $0, strlen($0)) }
        }
        dir.write("c.log", "late file\n")  // its create event is lost in the overflow
        sink.gate.signal()
        #expect(eventually(10) { sink.inner.texts.count == 2 * rounds + 2 })
        #expect(sink.inner.texts.contains("late file"))
        #expect(handler.count("tail.inotify_overflow") == 1)
    }
}
