#if canImport(Glibc)
    import Glibc

    extension CheckpointStore {
        /// How long a gone file's checkpoint is kept after its last update: 1 hour. Long enough
        /// for a file that briefly vanishes (a remount, a directory recreated) to come back and
        /// be resumed; short enough that rotated files do not pile up in the store.
        public static let pruneGraceMs: Int64 = 3_600_000

        /// Whether `checkpoint` may be dropped at `nowMs`. It must be gone: not held by the
        /// tailer (`scan.live`: open, idle or draining), and its last path no longer holds it
        /// (`pathHolds`: its inode and first bytes). And it must be done with, for `graceMs` since its last
        /// update: fully read (its offset at or past where this run's reading of it ended), or
        /// never sighted by a tailer that has been watching for `graceMs` (a file that went away
        /// while the agent was stopped: nothing can read it any more).
        public static func isPrunable(
            _ checkpoint: Checkpoint, scan: FileScan, nowMs: Int64, graceMs: Int64 = pruneGraceMs,
            pathHolds: (Checkpoint) -> Bool
        ) -> Bool {
            guard !scan.live.contains(checkpoint.key), nowMs - checkpoint.updatedMs >= graceMs else {
                return false
            }
            if let end = scan.readEnds[checkpoint.key] {
                guard checkpoint.offset >= end else { return false }
            } else {
                guard nowMs - scan.watchingSinceMs >= graceMs else { return false }
            }
            return !pathHolds(checkpoint)
        }

        /// Drops every prunable checkpoint (see `isPrunable`) and returns them.
        public mutating func prune(
            _ scan: FileScan, nowMs: Int64, graceMs: Int64 = pruneGraceMs,
            pathHolds: (Checkpoint) -> Bool = CheckpointStore.pathHoldsFile
        ) -> [Checkpoint] {
            let gone = checkpoints.values.filter {
                Self.isPrunable($0, scan: scan, nowMs: nowMs, graceMs: graceMs, pathHolds: pathHolds)
            }
            for checkpoint in gone { remove(checkpoint.key) }
            return gone
        }

        /// Whether the checkpoint's last path still holds its file: its inode, beginning with its
        /// fingerprinted bytes (a file truncated or rewritten since keeps the inode, not the file:
        /// its old key, superseded, is then prunable).
        public static func pathHoldsFile(_ checkpoint: Checkpoint) -> Bool {
            guard let file = try? ReadableFile(path: checkpoint.path) else { return false }
            return (try? checkpoint.identity.matches(file)) ?? false
        }
    }
#endif
