#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension Backfill {
    /// What `import --dry-run` found for one file.
    public struct PlannedFile: Sendable, Equatable {
        public var path: String
        /// Where the import would start (its import checkpoint), and the file's readable length
        /// (decompressed bytes for gzip, which is only known after reading it).
        public var startOffset: UInt64
        public var length: UInt64
        public var summary: DryRun.Summary

        /// `app.log.1: from byte 0 of 1200: 10 lines, 9 events, …`
        public var line: String {
            let start =
                startOffset == 0
                ? "from its start" : startOffset >= length ? "already imported" : "resumes at byte \(startOffset)"
            return "\(path): \(start) (\(length) bytes): " + DryRun.counts(summary)
        }
    }

    /// `import --dry-run`: reads `files` through the rules from where an import would start,
    /// counting what it would send, and sends nothing, writes nothing (neither checkpoints nor
    /// dead letters). `problem` gets each invalid event's explanation.
    public func dryRun(files: [String], problem: @escaping (String) -> Void) throws -> [PlannedFile] {
        // A look only: a missing store is an empty one, and nothing is created or cleaned up.
        let store = try CheckpointStore(
            directory: plan.config.stateDir, name: CheckpointStore.importStoreName, createIfMissing: false,
            discardingLeftovers: false)
        let reader = DryRun(plan: plan, sourceIndex: sourceIndex, explain: false, out: { _ in }, err: problem)
        return try files.map { path in
            let file = try ReadableFile(path: path)
            let status = try file.status()
            let decision = store.resumeDecision(path: path, device: status.device, inode: status.inode) {
                (try? $0.matches(file, status: status)) ?? false
            }
            let start = progress(decision)?.offset ?? 0
            var summary = DryRun.Summary()
            let length = try reader.run(.file(path), from: start, summary: &summary)
            return PlannedFile(path: path, startOffset: start, length: length, summary: summary)
        }
    }
}
