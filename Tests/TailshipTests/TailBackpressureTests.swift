import Foundation
import Synchronization
import Testing

@testable import Tailship

/// A sink whose room is switched by the test: while it has none, the tailer must read nothing
/// yet keep watching.
final class RoomSink: LineSink, @unchecked Sendable {
    let inner = CollectingSink()
    let room = Atomic<Bool>(true)
    let waits = Atomic<Int>(0)

    func fileOpened(file: Int, source: Int, path: String, identity: FileIdentity, offset: UInt64) {
        inner.fileOpened(file: file, source: source, path: path, identity: identity, offset: offset)
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
        // The new file is opened (announced to the sink) although nothing may be read.
        #expect(eventually { sink.inner.records.filter { if case .opened = $0 { true } else { false } }.count == 2 })
        dir.append("app.log", "second 2\n")
        try dir.rename("app.log", "app.log.2")  // rotated away before a line of it was read
        dir.write("app.log", "third 1\n")
        usleep(500_000)
        #expect(sink.inner.texts == ["first 1"], "nothing is read while the sink has no room")
        #expect(sink.waits.load(ordering: .relaxed) > 3, "the tail thread waited for room, turn by turn")
        sink.room.store(true, ordering: .releasing)
        #expect(eventually { sink.inner.texts.count == 5 })
        usleep(300_000)
        #expect(Set(sink.inner.texts) == ["first 1", "first 2", "second 1", "second 2", "third 1"])
        #expect(sink.inner.texts.count == 5)
    }
}
