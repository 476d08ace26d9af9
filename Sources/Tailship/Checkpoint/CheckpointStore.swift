#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Errors of the checkpoint store, with the path involved so the operator knows where to look.
public struct CheckpointError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public var description: String { "\(path): \(message)" }
}

/// Per-file checkpoints keyed by `FileKey`, saved atomically as one versioned JSON document.
///
/// Saving writes `<name>.tmp`, fsyncs it, renames it over `<name>` and fsyncs the directory, so
/// after a crash the file is either the old or the new document, never a torn mix. A `.tmp`
/// left by a crash is the unfinished newer write and is discarded at load. A version-1 document
/// (before stable identities) is migrated on load and rewritten in version 2 at the next save.
public struct CheckpointStore: Sendable {
    public let directory: String
    public let name: String
    public private(set) var checkpoints: [FileKey: Checkpoint] = [:]
    /// The keys recorded for each inode (lookups at every file opened need not scan them all).
    private var byInode: [UInt64: Set<FileKey>] = [:]

    public var path: String { directory + "/" + name }

    /// The live agent's store; `import` keeps its own (`importStoreName`) so a backfill never
    /// moves the daemon's offsets.
    public static let liveStoreName = "checkpoints.json"
    public static let importStoreName = "import-checkpoints.json"

    /// Opens (and, unless `createIfMissing` is false, creates) the store's directory and loads
    /// the saved document; a missing document is an empty store. The owner of the store
    /// (`discardingLeftovers`) also removes a `.tmp` a crash left; a mere look (a reload checking
    /// the new configuration's state directory) must not: it may be a save in progress.
    public init(
        directory: String, name: String = "checkpoints.json", createIfMissing: Bool = true,
        discardingLeftovers: Bool = true
    ) throws(CheckpointError) {
        self.directory = directory
        self.name = name
        if createIfMissing { try AtomicFile.createDirectory(directory) }
        if createIfMissing && discardingLeftovers { try? StateFile.removeIfPresent(path + ".tmp") }
        guard let data = try Self.read(path) else { return }
        for checkpoint in try Self.decode(data, path: path) { update(checkpoint) }
    }

    /// Far beyond any real store (a checkpoint is about 500 bytes: this is over 100,000 files),
    /// small enough that a corrupted or planted file cannot take the agent's memory.
    static let maxFileBytes = 64 * 1024 * 1024

    /// The document's bytes, nil when there is none; never through a link, bounded in size.
    private static func read(_ path: String) throws(CheckpointError) -> Data? {
        do {
            return try StateFile.read(path, limit: maxFileBytes).map { Data($0) }
        } catch {
            let why: String
            if error.errno == .accessDenied {
                // Nothing is wrong with it: it is the agent's user's alone (0600).
                throw CheckpointError(
                    path: path,
                    message: "checkpoint file cannot be read: Permission denied (state files are the agent's user's "
                        + "alone: run this as that user or root)")
            }
            switch error.errno.rawValue {
            case ELOOP: why = "is a symbolic link; state files are never read through links"
            case EFBIG: why = "is larger than \(maxFileBytes / 1024 / 1024) MiB, far beyond any checkpoint file"
            case EINVAL: why = "is not a regular file"
            default: why = "cannot be read: \(error.errno)"
            }
            throw CheckpointError(path: path, message: "checkpoint file \(why); move it aside to start over")
        }
    }

    private struct VersionOnly: Codable { var version: Int }

    private static func decode(_ data: Data, path: String) throws(CheckpointError) -> [Checkpoint] {
        do {
            let version = try JSONDecoder().decode(VersionOnly.self, from: data).version
            switch version {
            case CheckpointFile.currentVersion:
                return try JSONDecoder().decode(CheckpointFile.self, from: data).checkpoints
            case 1:
                return try JSONDecoder().decode(CheckpointFileV1.self, from: data).checkpoints.map {
                    Checkpoint(
                        key: .random(), identity: $0.identity, path: $0.path, source: $0.source, offset: $0.offset,
                        start: .migrated, firstSeenMs: $0.updatedMs, updatedMs: $0.updatedMs)
                }
            default:
                throw CheckpointError(
                    path: path,
                    message:
                        "checkpoint format version \(version) is not supported by this tailship (expects \(CheckpointFile.currentVersion) or 1)"
                )
            }
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError(
                path: path, message: "unreadable checkpoint file (\(error)); move it aside to start over")
        }
    }

    /// The checkpoints recorded for an inode, on any device: usually zero or one, more after
    /// inode reuse. `resumeDecision` picks the one that is this file.
    public func checkpoints(inode: UInt64) -> [Checkpoint] {
        (byInode[inode] ?? []).compactMap { checkpoints[$0] }
    }

    public subscript(key: FileKey) -> Checkpoint? { checkpoints[key] }

    public mutating func update(_ checkpoint: Checkpoint) {
        if let old = checkpoints[checkpoint.key], old.identity.inode != checkpoint.identity.inode {
            byInode[old.identity.inode]?.remove(checkpoint.key)
        }
        checkpoints[checkpoint.key] = checkpoint
        byInode[checkpoint.identity.inode, default: []].insert(checkpoint.key)
    }

    public mutating func remove(_ key: FileKey) {
        guard let old = checkpoints.removeValue(forKey: key) else { return }
        byInode[old.identity.inode]?.remove(key)
        if byInode[old.identity.inode]?.isEmpty == true { byInode[old.identity.inode] = nil }
    }

    /// The document's bytes: version 2, checkpoints sorted by path then offset.
    func encoded() throws(CheckpointError) -> Data {
        let document = CheckpointFile(
            version: CheckpointFile.currentVersion,
            checkpoints: checkpoints.values.sorted {
                ($0.path, $0.offset, $0.key.raw) < ($1.path, $1.offset, $1.key.raw)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { return try encoder.encode(document) } catch {
            throw CheckpointError(path: path, message: "cannot encode checkpoints: \(error)")
        }
    }

    /// Writes the document atomically (tmp, fsync, rename, fsync the directory).
    public func save() throws(CheckpointError) {
        try AtomicFile.write(encoded(), to: path)
    }
}

extension CheckpointStore {
    /// Which recorded file, if any, the file at `path` (`device`, `inode`) is. A checkpoint is
    /// this file when its inode is the file's, its fingerprint matches the file's first bytes
    /// (`fingerprintMatches`), it is not held by another file now (`excluding`), and either its
    /// device is the file's or (a device renumbered across a reboot) its recorded path is `path`.
    /// Of several candidates (inode reuse, devices renumbered): the one at this path, then on this
    /// device, with the longest fingerprint, most recently updated.
    public func resumeDecision(
        path: String, device: UInt64, inode: UInt64, excluding held: Set<FileKey> = [],
        fingerprintMatches: (FileIdentity) -> Bool
    ) -> ResumeDecision {
        let candidates = checkpoints(inode: inode).filter { !held.contains($0.key) }
        let matching = candidates.filter {
            ($0.identity.device == device || $0.path == path) && fingerprintMatches($0.identity)
        }
        func rank(_ c: Checkpoint) -> (Int, Int, Int, Int64) {
            (c.path == path ? 1 : 0, c.identity.device == device ? 1 : 0, c.identity.fingerprintLength, c.updatedMs)
        }
        if let best = matching.max(by: { rank($0) < rank($1) }) {
            return .resume(best.resumePoint)
        }
        if let same = candidates.first(where: { $0.identity.device == device && $0.path == path }) {
            return .rewritten(same.resumePoint)
        }
        return .unknown
    }
}

extension Checkpoint {
    /// The position the tailer resumes from.
    public var resumePoint: ResumePoint {
        ResumePoint(key: key, identity: identity, offset: offset, source: source, rules: rules)
    }
}
