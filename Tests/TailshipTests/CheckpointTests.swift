import Foundation
import Testing

@testable import Tailship

private let idA = FileIdentity(device: 1, inode: 2, fingerprint: 3, fingerprintLength: 10)

@Suite struct AckTrackerTests {
    static func h(_ file: Int, _ segment: UInt64) -> AckHandle { AckHandle(file: file, segment: segment) }

    @Test func advancesOnlyOverTheResolvedPrefix() {
        var t = AckTracker()
        t.open(file: 0, offset: 0)
        #expect(t.addSegment(Self.h(0, 0), endOffset: 100, pending: 2) == nil)
        #expect(t.addSegment(Self.h(0, 1), endOffset: 200, pending: 1) == nil)
        // The later segment resolves first: nothing moves.
        #expect(t.resolve(Self.h(0, 1)) == nil)
        #expect(t.committed(file: 0) == 0)
        #expect(t.resolve(Self.h(0, 0)) == nil)
        #expect(t.resolve(Self.h(0, 0)) == 200)
        #expect(t.outstandingSegments == 0)
    }

    @Test func segmentsWithoutEventsAdvanceAtOnceWhenNothingIsAhead() {
        var t = AckTracker()
        t.open(file: 7, offset: 50)
        #expect(t.addSegment(Self.h(7, 0), endOffset: 80, pending: 0) == 80)
        _ = t.addSegment(Self.h(7, 1), endOffset: 90, pending: 1)
        #expect(t.addSegment(Self.h(7, 2), endOffset: 120, pending: 0) == nil)
        #expect(t.resolve(Self.h(7, 1)) == 120)
    }

    @Test func aSegmentOutOfOrderIsIgnored() {
        var t = AckTracker()
        t.open(file: 1, offset: 0)
        #expect(t.addSegment(Self.h(1, 1), endOffset: 500, pending: 0) == nil)
        #expect(t.committed(file: 1) == 0)
        #expect(t.addSegment(Self.h(1, 0), endOffset: 40, pending: 0) == 40)
    }

    @Test func closedFileIsForgottenOnceDrained() {
        var t = AckTracker()
        t.open(file: 2, offset: 0)
        _ = t.addSegment(Self.h(2, 0), endOffset: 10, pending: 1)
        t.close(file: 2)
        #expect(t.committed(file: 2) == 0)
        #expect(t.isTracked(file: 2))
        #expect(t.resolve(Self.h(2, 0)) == 10)
        #expect(t.committed(file: 2) == nil)
        #expect(!t.isTracked(file: 2))
    }

    @Test func manySegmentsCompact() {
        var t = AckTracker()
        t.open(file: 0, offset: 0)
        var last: UInt64?
        for i in 1...10_000 {
            _ = t.addSegment(Self.h(0, UInt64(i - 1)), endOffset: UInt64(i), pending: 1)
            last = t.resolve(Self.h(0, UInt64(i - 1)))
        }
        #expect(last == 10_000)
        #expect(t.outstandingSegments == 0)
    }
}

@Suite struct CheckpointStoreTests {
    func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ts-ckpt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static let a = Checkpoint(identity: idA, path: "/var/log/a.log", source: "app", offset: 1234, updatedMs: 5)

    @Test func savesAndReloads() throws {
        let dir = try tempDir()
        var store = try CheckpointStore(directory: dir)
        store.update(Self.a)
        try store.save()
        let again = try CheckpointStore(directory: dir)
        #expect(again[Self.a.key] == Self.a)
        #expect(again.checkpoints(inode: 2).map(\.path) == ["/var/log/a.log"])
        #expect(again.checkpoints(inode: 3).isEmpty)
        let text = try String(contentsOfFile: dir + "/checkpoints.json", encoding: .utf8)
        #expect(text.contains("\"version\" : 2"))
        #expect(text.contains("\"start\" : \"beginning\""))
        #expect(text.contains("\"key\" : \"\(Self.a.key)\""))
        #expect(!FileManager.default.fileExists(atPath: dir + "/checkpoints.json.tmp"))
    }

    /// A checkpoint file written by tailship before stable identities (version 1) is carried
    /// over: same offsets and identities, a key each, rewritten as version 2 at the next save.
    @Test func aVersionOneFileIsMigrated() throws {
        let dir = try tempDir()
        let v1 = """
            {
              "checkpoints" : [
                {
                  "identity" : { "device" : 2049, "fingerprint" : 12345, "fingerprintLength" : 1024, "inode" : 77 },
                  "offset" : 4096, "path" : "/var/log/app.log", "source" : "app", "updatedMs" : 1790000000000
                }
              ],
              "version" : 1
            }
            """
        try Data(v1.utf8).write(to: URL(fileURLWithPath: dir + "/checkpoints.json"))
        let store = try CheckpointStore(directory: dir)
        let migrated = try #require(store.checkpoints.values.first)
        #expect(store.checkpoints.count == 1)
        #expect(
            migrated.identity == FileIdentity(device: 2049, inode: 77, fingerprint: 12345, fingerprintLength: 1024))
        #expect(migrated.offset == 4096 && migrated.path == "/var/log/app.log" && migrated.source == "app")
        #expect(migrated.start == .migrated && migrated.updatedMs == 1_790_000_000_000)
        try store.save()
        let again = try CheckpointStore(directory: dir)
        #expect(again.checkpoints.values.first == migrated)
    }

    @Test func leftoverTmpIsDiscarded() throws {
        let dir = try tempDir()
        var store = try CheckpointStore(directory: dir)
        store.update(Self.a)
        try store.save()
        try Data("{torn".utf8).write(to: URL(fileURLWithPath: dir + "/checkpoints.json.tmp"))
        let again = try CheckpointStore(directory: dir)
        #expect(again[Self.a.key]?.offset == 1234)
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

    /// The save is crash-safe only in this order: the new document written to the side file and
    /// fsynced, renamed over the old one, and the directory fsynced (else the rename itself may
    /// not survive a power loss).
    @Test func saveWritesSyncsRenamesThenSyncsTheDirectory() throws {
        let dir = try tempDir()
        var store = try CheckpointStore(directory: dir)
        store.update(Self.a)
        DurabilityTrace.start(prefix: dir)
        try store.save()
        let calls = DurabilityTrace.stop()
        let tmp = dir + "/checkpoints.json.tmp"
        #expect(calls == ["write \(tmp)", "fsync \(tmp)", "rename \(tmp)", "fsync \(dir)"])
    }

    /// A save that fails (here the side file cannot be created) leaves the previous document
    /// whole, and throws with the path.
    @Test func aFailedSaveLeavesThePreviousDocument() throws {
        let dir = try tempDir()
        var store = try CheckpointStore(directory: dir)
        store.update(Self.a)
        try store.save()
        let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/checkpoints.json"))
        try FileManager.default.createDirectory(
            atPath: dir + "/checkpoints.json.tmp", withIntermediateDirectories: false)
        var moved = Self.a
        moved.offset = 9999
        store.update(moved)
        #expect(throws: CheckpointError.self) { try store.save() }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/checkpoints.json")) == before)
        #expect(try CheckpointStore(directory: dir, createIfMissing: false)[Self.a.key]?.offset == 1234)
    }
}

/// Which recorded file a file found now is.
@Suite struct CheckpointResumeDecisionTests {
    static func store(_ checkpoints: [Checkpoint]) throws -> CheckpointStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ts-ckpt-\(UUID().uuidString)").path
        var store = try CheckpointStore(directory: dir)
        for checkpoint in checkpoints { store.update(checkpoint) }
        return store
    }

    static let recorded = Checkpoint(
        identity: FileIdentity(device: 10, inode: 500, fingerprint: 0xfeed, fingerprintLength: 1024),
        path: "/var/log/app.log", source: "app", offset: 300, updatedMs: 1)

    @Test func theSameDeviceInodeAndFirstBytesResume() throws {
        let store = try Self.store([Self.recorded])
        let decision = store.resumeDecision(path: "/var/log/app.log.1", device: 10, inode: 500) {
            $0.fingerprint == 0xfeed
        }
        #expect(decision == .resume(Self.recorded.resumePoint))
    }

    /// LVM or overlayfs may renumber the device across a reboot: the file at its recorded path,
    /// with its inode and first bytes, is still the same file.
    @Test func aRenumberedDeviceIsFollowedAtTheRecordedPath() throws {
        let store = try Self.store([Self.recorded])
        #expect(
            store.resumeDecision(path: "/var/log/app.log", device: 11, inode: 500) { $0.fingerprint == 0xfeed }
                == .resume(Self.recorded.resumePoint))
        // Elsewhere on another device, an inode number that happens to match is another file.
        #expect(
            store.resumeDecision(path: "/data/other.log", device: 11, inode: 500) { $0.fingerprint == 0xfeed }
                == .unknown)
    }

    @Test func otherFirstBytesAtTheRecordedPathAreARewrite() throws {
        let store = try Self.store([Self.recorded])
        #expect(
            store.resumeDecision(path: "/var/log/app.log", device: 10, inode: 500) { _ in false }
                == .rewritten(Self.recorded.resumePoint))
        // A reused inode under another name: a file never seen.
        #expect(store.resumeDecision(path: "/var/log/new.log", device: 10, inode: 500) { _ in false } == .unknown)
    }

    /// Two file systems whose device numbers swap at boot, each with a file on inode 12 (empty
    /// when first seen, so any bytes match): each file keeps its own key, by its path.
    @Test func devicesThatSwapNumbersDoNotSwapKeys() throws {
        let empty = { (device: UInt64) in
            FileIdentity(device: device, inode: 12, fingerprint: FNV64.offsetBasis, fingerprintLength: 0)
        }
        var x = Checkpoint(identity: empty(1), path: "/a/x.log", source: "s", offset: 0, updatedMs: 10)
        x.key = FileKey(raw: 0xa)
        var z = Checkpoint(identity: empty(2), path: "/c/z.log", source: "s", offset: 0, updatedMs: 10)
        z.key = FileKey(raw: 0xb)
        let store = try Self.store([x, z])
        #expect(store.resumeDecision(path: "/a/x.log", device: 2, inode: 12) { _ in true } == .resume(x.resumePoint))
        #expect(store.resumeDecision(path: "/c/z.log", device: 1, inode: 12) { _ in true } == .resume(z.resumePoint))
        // A key already held by a file tracked now is never handed to a second one.
        #expect(
            store.resumeDecision(path: "/b/y.log", device: 1, inode: 12, excluding: [x.key]) { _ in true } == .unknown)
    }

    @Test func ofSeveralOnOneInodeTheMatchingOneWins() throws {
        var stale = Self.recorded
        stale.key = FileKey(raw: 1)
        stale.identity.fingerprint = 0xdead
        stale.offset = 0
        let store = try Self.store([stale, Self.recorded])
        let decision = store.resumeDecision(path: "/var/log/app.log", device: 10, inode: 500) {
            $0.fingerprint == 0xfeed
        }
        #expect(decision == .resume(Self.recorded.resumePoint))
    }
}
