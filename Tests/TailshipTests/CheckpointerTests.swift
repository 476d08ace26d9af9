import Foundation
import Logging
import Testing

@testable import Tailship

/// The checkpointer stage on its own thread: positions saved before they count as durable,
/// acknowledgements moving checkpoints only over resolved segments, a full disk failing closed.
@Suite struct CheckpointerTests {
    static func stateDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ts-ckptr-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func checkpointer(_ dir: String) throws -> Checkpointer {
        var logger = Logger(label: "checkpointer-test")
        logger.logLevel = .critical
        return try Checkpointer(
            directory: dir, name: CheckpointStore.liveStoreName, metrics: AgentMetrics(), logger: logger)
    }

    static func opening(file: Int, key: UInt64, offset: UInt64, start: StartReason?) -> FileOpening {
        FileOpening(
            file: file, source: 0, path: "/logs/\(file).log", key: FileKey(raw: key),
            identity: FileIdentity(device: 1, inode: UInt64(100 + file), fingerprint: 7, fingerprintLength: 20),
            offset: offset, start: start)
    }

    /// The saved document's offset for `key`, read from disk.
    static func saved(_ dir: String, _ key: UInt64) throws -> UInt64? {
        try CheckpointStore(directory: dir, createIfMissing: false)[FileKey(raw: key)]?.offset
    }

    @Test func aFirstSeenPositionIsOnDiskBeforeItCountsAsDurable() throws {
        let dir = try Self.stateDir()
        let checkpointer = try Self.checkpointer(dir)
        defer { checkpointer.stop() }
        let sequence = checkpointer.open(Self.opening(file: 1, key: 0xa, offset: 500, start: .end), source: "app")
        #expect(sequence > 0)
        #expect(checkpointer.waitUntilDurable(timeout: .seconds(5)))
        #expect(checkpointer.isDurable(sequence))
        // Durable means on disk, where a restart finds it.
        let stored = try #require(try CheckpointStore(directory: dir, createIfMissing: false)[FileKey(raw: 0xa)])
        #expect(stored.offset == 500 && stored.start == .end && stored.source == "app")
        // A resumed file's position is already on disk: nothing to wait for.
        #expect(checkpointer.open(Self.opening(file: 2, key: 0xb, offset: 0, start: nil), source: "app") == 0)
        #expect(checkpointer.isDurable(0))
    }

    @Test func acknowledgementsMoveTheCheckpointOverResolvedSegmentsOnly() throws {
        let dir = try Self.stateDir()
        let checkpointer = try Self.checkpointer(dir)
        _ = checkpointer.open(Self.opening(file: 1, key: 0xa, offset: 0, start: .appeared), source: "app")
        let s0 = AckHandle(file: 1, segment: 0)
        let s1 = AckHandle(file: 1, segment: 1)
        checkpointer.segment(s0, endOffset: 100, pending: 2)
        checkpointer.segment(s1, endOffset: 250, pending: 1)
        checkpointer.acknowledge([s1], result: .accepted)
        checkpointer.acknowledge([s0], result: .accepted)
        #expect(checkpointer.settle() == 2, "segment 1 is done but waits behind segment 0")
        checkpointer.acknowledge([s0], result: .deadLettered)
        #expect(checkpointer.settle() == 0)
        checkpointer.stop()
        #expect(try Self.saved(dir, 0xa) == 250)
    }

    /// After a crash (no stop, no final save) the document on disk is never past an
    /// unacknowledged segment, and it follows acknowledged ones within the save interval.
    @Test func whatIsOnDiskIsNeverPastAnUnacknowledgedSegment() throws {
        let dir = try Self.stateDir()
        let checkpointer = try Self.checkpointer(dir)
        defer { checkpointer.stop() }
        _ = checkpointer.open(Self.opening(file: 1, key: 0xa, offset: 0, start: .appeared), source: "app")
        #expect(checkpointer.waitUntilDurable(timeout: .seconds(5)))
        checkpointer.segment(AckHandle(file: 1, segment: 0), endOffset: 100, pending: 1)
        checkpointer.segment(AckHandle(file: 1, segment: 1), endOffset: 200, pending: 1)
        checkpointer.acknowledge([AckHandle(file: 1, segment: 0)], result: .accepted)
        _ = checkpointer.settle()
        var onDisk: UInt64?
        let deadline = Date(timeIntervalSinceNow: 5)
        while onDisk != 100 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            onDisk = try Self.saved(dir, 0xa)
        }
        #expect(onDisk == 100)
        Thread.sleep(forTimeInterval: 1.2)
        #expect(try Self.saved(dir, 0xa) == 100)
    }

    /// A state directory that cannot be written: a new position never counts as durable (its
    /// file is not read), and it does once the disk has room again.
    @Test func aPositionThatCannotBeSavedIsNotDurableUntilItIs() throws {
        let dir = try Self.stateDir()
        let checkpointer = try Self.checkpointer(dir)
        defer { checkpointer.stop() }
        // The side file the save writes is a directory: every save fails.
        try FileManager.default.createDirectory(
            atPath: dir + "/checkpoints.json.tmp", withIntermediateDirectories: false)
        let sequence = checkpointer.open(Self.opening(file: 1, key: 0xa, offset: 0, start: .appeared), source: "app")
        Thread.sleep(forTimeInterval: 0.3)
        // While saves fail, a wait returns at once (the reading thread must not stall).
        let started = Date()
        #expect(!checkpointer.waitUntilDurable(timeout: .seconds(5)))
        #expect(Date().timeIntervalSince(started) < 1)
        #expect(!checkpointer.isDurable(sequence))
        try FileManager.default.removeItem(atPath: dir + "/checkpoints.json.tmp")
        // Retried every second: durable once a save succeeds.
        let deadline = Date(timeIntervalSinceNow: 5)
        while !checkpointer.isDurable(sequence) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(checkpointer.isDurable(sequence))
        #expect(try Self.saved(dir, 0xa) == 0)
    }

    /// The upgrade of a young file's fingerprint and a rename are recorded under its key.
    @Test func identityUpgradesAndRenamesFollowTheKey() throws {
        let dir = try Self.stateDir()
        let checkpointer = try Self.checkpointer(dir)
        _ = checkpointer.open(Self.opening(file: 3, key: 0xc, offset: 0, start: .beginning), source: "app")
        let grown = FileIdentity(device: 1, inode: 103, fingerprint: 99, fingerprintLength: 1024)
        checkpointer.identityChanged(file: 3, identity: grown)
        checkpointer.moved(file: 3, path: "/logs/3.log.1")
        checkpointer.stop()
        let stored = try #require(try CheckpointStore(directory: dir, createIfMissing: false)[FileKey(raw: 0xc)])
        #expect(stored.identity == grown && stored.path == "/logs/3.log.1")
    }
}
