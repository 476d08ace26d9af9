import Foundation
import Glibc
import Synchronization
import Testing

@testable import Tailship

/// A sink whose room is switched by the test: while it has none, the tailer must read nothing
/// yet keep watching.
final class RoomSink: LineSink, @unchecked Sendable {
    let inner = CollectingSink()
    let room = Atomic<Bool>(true)
    let waits = Atomic<Int>(0)

    func fileOpened(_ opening: FileOpening) {
        inner.fileOpened(opening)
    }

    func lines(file: Int, _ batch: LineBatch) { inner.lines(file: file, batch) }
    func fileMoved(file: Int, path: String) { inner.fileMoved(file: file, path: path) }
    func fileClosed(file: Int, reason: FileCloseReason) { inner.fileClosed(file: file, reason: reason) }

    var hasRoom: Bool { room.load(ordering: .acquiring) }

    func waitForRoom(timeout: Duration) -> Bool {
        waits.add(1, ordering: .relaxed)
        if hasRoom { return true }
        Thread.sleep(forTimeInterval: 0.02)
        return hasRoom
    }
}

@Suite(.serialized)
struct TailBackpressureTests {
    /// While the destination is down the tailer reads nothing, but a file created and rotated
    /// away meanwhile is opened when it appears and held by its descriptor, so its lines are
    /// read once there is room again (docs/delivery.md, "Backpressure").
    @Test func aFileBornAndRotatedAwayWhileReadingIsPausedIsReadAfterwards() throws {
        let dir = try TailTempDir()
        let sink = RoomSink()
        let tailer = Tailer(
            sources: [TailSource(name: "app", paths: [dir.path("app.log")], startAt: .beginning)],
            sink: sink, options: TailTailerTests.fastOptions, logger: TailTailerTests.quietLogger)
        dir.write("app.log", "first 1\n")
        try tailer.start()
        defer { tailer.stop() }
        #expect(eventually { sink.inner.texts == ["first 1"] })
        sink.room.store(false, ordering: .releasing)
        dir.append("app.log", "first 2\n")
        try dir.rename("app.log", "app.log.1")
        dir.write("app.log", "second 1\n")
        // The new file is opened (its descriptor held) although nothing may be read: the renamed
        // one and it.
        let held = { TailScaleTests().openDescriptors(under: dir) }
        #expect(eventually { held() == 2 })
        dir.append("app.log", "second 2\n")
        try dir.rename("app.log", "app.log.2")  // rotated away before a line of it was read
        dir.write("app.log", "third 1\n")
        #expect(eventually { held() == 3 })
        usleep(300_000)
        #expect(sink.inner.texts == ["first 1"], "nothing is read while the sink has no room")
        #expect(sink.waits.load(ordering: .relaxed) > 3, "the tail thread waited for room, turn by turn")
        sink.room.store(true, ordering: .releasing)
        #expect(eventually { sink.inner.texts.count == 5 })
        usleep(300_000)
        #expect(Set(sink.inner.texts) == ["first 1", "first 2", "second 1", "second 2", "third 1"])
        #expect(sink.inner.texts.count == 5)
    }

    /// copytruncate while reading is paused: the original's truncation cannot be seen before it
    /// is read again, so its copy is not judged meanwhile (a copy that waited out `copyWait`
    /// would be read from 0 under a new identity: every line again, under other `$insert_id`s).
    @Test func aCopyMadeWhileReadingIsPausedIsRecognisedAfterwards() throws {
        let dir = try TailTempDir()
        let sink = RoomSink()
        let tailer = Tailer(
            sources: [TailSource(name: "app", paths: [dir.path("app.log*")], startAt: .beginning)],
            sink: sink, options: TailTailerTests.fastOptions, logger: TailTailerTests.quietLogger)
        dir.write("app.log", "line 1\nline 2\n")
        try tailer.start()
        defer { tailer.stop() }
        #expect(eventually { sink.inner.texts == ["line 1", "line 2"] })
        sink.room.store(false, ordering: .releasing)
        dir.append("app.log", "line 3\n")
        // logrotate's copytruncate: copy, then truncate the original in place.
        try FileManager.default.copyItem(atPath: dir.path("app.log"), toPath: dir.path("app.log.1"))
        #expect(truncate(dir.path("app.log"), 0) == 0)
        usleep(useconds_t(TailLoop.copyWait.components.seconds * 1_000_000 + 800_000))
        #expect(sink.inner.texts.count == 2, "nothing is read while the sink has no room")
        dir.append("app.log", "line 4\n")
        sink.room.store(true, ordering: .releasing)
        #expect(eventually { sink.inner.texts.count >= 4 })
        usleep(300_000)
        #expect(sink.inner.texts.sorted() == ["line 1", "line 2", "line 3", "line 4"])
    }

    /// Parked files written to while reading is paused stay parked (no descriptor for a file
    /// that cannot be read now) and are read once there is room.
    @Test func parkedFilesStayParkedWhileReadingIsPaused() throws {
        let dir = try TailTempDir()
        let sink = RoomSink()
        let tailer = Tailer(
            sources: [TailSource(name: "app", paths: [dir.path("*.log")], startAt: .beginning, maxOpenFiles: 2)],
            sink: sink, options: TailTailerTests.fastOptions, logger: TailTailerTests.quietLogger)
        let names = (0..<12).map { "f\($0).log" }
        for name in names { dir.write(name, "\(name) 1\n") }
        try tailer.start()
        defer { tailer.stop() }
        #expect(eventually { sink.inner.texts.count == 12 })
        usleep(300_000)
        sink.room.store(false, ordering: .releasing)
        var peak = 0
        for name in names {
            dir.append(name, "\(name) 2\n")
            usleep(20_000)
            peak = max(peak, TailScaleTests().openDescriptors(under: dir))
        }
        usleep(300_000)
        peak = max(peak, TailScaleTests().openDescriptors(under: dir))
        #expect(peak <= 3, "\(peak) descriptors open while paused, for max_open_files 2")
        sink.room.store(true, ordering: .releasing)
        #expect(eventually { sink.inner.texts.count == 24 })
        usleep(300_000)
        #expect(Set(sink.inner.texts) == Set(names.flatMap { ["\($0) 1", "\($0) 2"] }))
        #expect(sink.inner.texts.count == 24)
    }
}
