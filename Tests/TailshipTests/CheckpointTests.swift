import Foundation
import Testing

@testable import Tailship

private let idA = FileIdentity(device: 1, inode: 2, fingerprint: 3, fingerprintLength: 10)

@Suite struct AckTrackerTests {
    @Test func advancesOnlyOverTheResolvedPrefix() {
        var t = AckTracker()
        t.open(file: 0, identity: idA, path: "/a", source: "s", offset: 0)
        let h0 = t.nextHandle(file: 0)
        #expect(t.addSegment(file: 0, endOffset: 100, pending: 2) == nil)
        let h1 = t.nextHandle(file: 0)
        #expect(t.addSegment(file: 0, endOffset: 200, pending: 1) == nil)
        // The later segment resolves first: nothing moves.
        #expect(t.resolve(h1) == nil)
        #expect(t.committed(file: 0) == 0)
        #expect(t.resolve(h0) == nil)
        let advance = t.resolve(h0)
        #expect(advance?.offset == 200)
        #expect(t.outstandingSegments == 0)
    }

    @Test func segmentsWithoutEventsAdvanceAtOnceWhenNothingIsAhead() {
        var t = AckTracker()
        t.open(file: 7, identity: idA, path: "/a", source: "s", offset: 50)
        #expect(t.addSegment(file: 7, endOffset: 80, pending: 0)?.offset == 80)
        let h = t.nextHandle(file: 7)
        _ = t.addSegment(file: 7, endOffset: 90, pending: 1)
        #expect(t.addSegment(file: 7, endOffset: 120, pending: 0) == nil)
        #expect(t.resolve(h)?.offset == 120)
    }

    @Test func resetIgnoresHandlesOfTheOldContent() {
        var t = AckTracker()
        t.open(file: 1, identity: idA, path: "/a", source: "s", offset: 0)
        let old = t.nextHandle(file: 1)
        _ = t.addSegment(file: 1, endOffset: 500, pending: 1)
        #expect(t.reset(file: 1, to: 0)?.offset == 0)
        #expect(t.resolve(old) == nil)
        let h = t.nextHandle(file: 1)
        _ = t.addSegment(file: 1, endOffset: 40, pending: 1)
        #expect(t.resolve(h)?.offset == 40)
    }

    @Test func closedFileIsForgottenOnceDrained() {
        var t = AckTracker()
        t.open(file: 2, identity: idA, path: "/a", source: "s", offset: 0)
        let h = t.nextHandle(file: 2)
        _ = t.addSegment(file: 2, endOffset: 10, pending: 1)
        t.close(file: 2)
        #expect(t.committed(file: 2) == 0)
        #expect(t.resolve(h)?.offset == 10)
        #expect(t.committed(file: 2) == nil)
    }

    @Test func manySegmentsCompact() {
        var t = AckTracker()
        t.open(file: 0, identity: idA, path: "/a", source: "s", offset: 0)
        var last: AckTracker.Advance?
        for i in 1...10_000 {
            let h = t.nextHandle(file: 0)
            _ = t.addSegment(file: 0, endOffset: UInt64(i), pending: 1)
            last = t.resolve(h)
        }
        #expect(last?.offset == 10_000)
        #expect(t.outstandingSegments == 0)
    }
}

@Suite struct CheckpointStoreTests {
    func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ts-ckpt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func savesAndReloads() throws {
        let dir = try tempDir()
        var store = try CheckpointStore(directory: dir)
        store.update(Checkpoint(identity: idA, path: "/var/log/a.log", source: "app", offset: 1234, updatedMs: 5))
        try store.save()
        let again = try CheckpointStore(directory: dir)
        #expect(again[idA]?.offset == 1234)
        #expect(again.checkpoints(device: 1, inode: 2).map(\.path) == ["/var/log/a.log"])
        #expect(again.checkpoints(device: 1, inode: 3).isEmpty)
        let text = try String(contentsOfFile: dir + "/checkpoints.json", encoding: .utf8)
        #expect(text.contains("\"version\" : 1"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/checkpoints.json.tmp"))
    }

    @Test func leftoverTmpIsDiscarded() throws {
        let dir = try tempDir()
        var store = try CheckpointStore(directory: dir)
        store.update(Checkpoint(identity: idA, path: "/a", source: "app", offset: 9, updatedMs: 0))
        try store.save()
        try Data("{torn".utf8).write(to: URL(fileURLWithPath: dir + "/checkpoints.json.tmp"))
        let again = try CheckpointStore(directory: dir)
        #expect(again[idA]?.offset == 9)
        #expect(!FileManager.default.fileExists(atPath: dir + "/checkpoints.json.tmp"))
    }

    @Test func corruptOrNewerFileIsAClearError() throws {
        let dir = try tempDir()
        try Data("not json".utf8).write(to: URL(fileURLWithPath: dir + "/checkpoints.json"))
        #expect(throws: CheckpointError.self) { try CheckpointStore(directory: dir) }
        try Data(#"{"version":99,"checkpoints":[]}"#.utf8).write(to: URL(fileURLWithPath: dir + "/checkpoints.json"))
        do {
            _ = try CheckpointStore(directory: dir)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("version 99"))
        }
    }
}
