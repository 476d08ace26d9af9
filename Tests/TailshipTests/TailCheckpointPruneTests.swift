import Foundation
import Testing

@testable import Tailship

/// The checkpoint pruning rule: only files that are gone and done with, after the grace period.
struct TailCheckpointPruneTests {
    static let hour: Int64 = 3_600_000
    static let now: Int64 = 100 * hour

    static func checkpoint(_ inode: UInt64, offset: UInt64 = 500, updatedMs: Int64 = now - 2 * hour) -> Checkpoint {
        Checkpoint(
            identity: FileIdentity(device: 1, inode: inode, fingerprint: inode &* 31, fingerprintLength: 100),
            path: "/nowhere/\(inode).log", source: "app", offset: offset, updatedMs: updatedMs)
    }

    static func scan(live: [Checkpoint] = [], readEnds: [(Checkpoint, UInt64)] = [], watchingFor: Int64 = 3 * hour)
        -> FileScan
    {
        FileScan(
            live: Set(live.map(\.key)),
            readEnds: Dictionary(uniqueKeysWithValues: readEnds.map { ($0.0.key, $0.1) }),
            watchingSinceMs: now - watchingFor)
    }

    static func prunable(_ checkpoint: Checkpoint, _ scan: FileScan, pathHolds: Bool = false) -> Bool {
        CheckpointStore.isPrunable(checkpoint, scan: scan, nowMs: now, pathHolds: { _ in pathHolds })
    }

    @Test func aGoneFullyReadFileIsPrunedAfterTheGrace() {
        let done = Self.checkpoint(1)
        #expect(Self.prunable(done, Self.scan(readEnds: [(done, 500)])))
        let recent = Self.checkpoint(1, updatedMs: Self.now - Self.hour / 2)
        #expect(!Self.prunable(recent, Self.scan(readEnds: [(recent, 500)])))
    }

    @Test func aFileNotFullyReadIsKept() {
        let behind = Self.checkpoint(2, offset: 400)
        #expect(!Self.prunable(behind, Self.scan(readEnds: [(behind, 500)])))
    }

    @Test func aFileStillOpenIsNeverPruned() {
        // A rotated file still draining through its descriptor is in `live`.
        let draining = Self.checkpoint(3)
        #expect(!Self.prunable(draining, Self.scan(live: [draining], readEnds: [(draining, 500)])))
    }

    @Test func aFileStillAtItsPathIsKept() {
        let present = Self.checkpoint(4)
        #expect(!Self.prunable(present, Self.scan(readEnds: [(present, 500)]), pathHolds: true))
    }

    @Test func aFileGoneWhileStoppedIsPrunedOnlyOnceWatchedForTheGrace() {
        let vanished = Self.checkpoint(5, offset: 10)
        #expect(!Self.prunable(vanished, Self.scan(watchingFor: Self.hour / 2)))
        #expect(Self.prunable(vanished, Self.scan(watchingFor: 2 * Self.hour)))
    }

    @Test func pruneDropsOnlyThePrunableAndSurvivesASaveAndLoad() throws {
        let dir = try TailTempDir()
        var store = try CheckpointStore(directory: dir.root)
        let done = Self.checkpoint(1)
        let open = Self.checkpoint(2)
        let behind = Self.checkpoint(3, offset: 1)
        for checkpoint in [done, open, behind] { store.update(checkpoint) }
        let scan = Self.scan(live: [open], readEnds: [(done, 500), (behind, 500)])
        let pruned = store.prune(scan, nowMs: Self.now)
        #expect(pruned.map(\.identity) == [done.identity])
        try store.save()
        let reloaded = try CheckpointStore(directory: dir.root)
        #expect(Set(reloaded.checkpoints.keys) == [open.key, behind.key])
    }

    @Test func pathHoldsFileComparesTheInodeAndTheFirstBytes() throws {
        let dir = try TailTempDir()
        let path = dir.write("a.log", "x\n")
        var checkpoint = Self.checkpoint(0)
        checkpoint.identity = try FileIdentity.compute(for: ReadableFile(path: path))
        checkpoint.path = path
        #expect(CheckpointStore.pathHoldsFile(checkpoint))
        // A device renumbered across a reboot does not make the file someone else.
        checkpoint.identity.device &+= 1
        #expect(CheckpointStore.pathHoldsFile(checkpoint))
        // Truncated and rewritten in place: the same inode, another file; the old key is prunable.
        let writer = try #require(FileHandle(forUpdatingAtPath: path))
        try writer.truncate(atOffset: 0)
        writer.write(Data("y\n".utf8))
        try writer.close()
        #expect(!CheckpointStore.pathHoldsFile(checkpoint))
        checkpoint.identity = try FileIdentity.compute(for: ReadableFile(path: path))
        #expect(CheckpointStore.pathHoldsFile(checkpoint))
        checkpoint.identity.inode += 1
        #expect(!CheckpointStore.pathHoldsFile(checkpoint))
    }
}
