#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `tailship status`: what the agent is doing (from the lock on `state_dir` and the status file
/// the running agent publishes there) and one row per checkpointed file, from the checkpoint
/// store and the files as they are now on disk.
public struct StatusReport {
    /// A file's reading state, as the `STATE` column shows it.
    public enum State: String, Sendable {
        /// Checkpointed to the file's current end.
        case ok
        /// Bytes remain past the checkpoint, and it moved recently: being read.
        case behind
        /// Bytes remain past the checkpoint and it has not moved for `stallAfterMs`: the file
        /// grows (or holds unread lines) but reading or delivery is stuck.
        case stalled
        /// The only bytes past the checkpoint are a last line without its newline yet: it is read
        /// once the writer ends it (or the file is rotated away). Harmless.
        case partial
        /// Found at a path other than its recorded one (renamed by a rotation the agent did not
        /// follow, `app.log` to `app.log.1`), and read to its end.
        case rotated
        /// No file with this identity was found (deleted, or renamed out of sight): its row
        /// stays until the running agent prunes it (see docs/rotation.md).
        case gone
    }

    public struct Row: Sendable, Equatable {
        /// Where the file is now, when found; else where it was last seen.
        public var path: String
        /// The recorded path, when the file was found elsewhere (the name it was rotated from).
        public var rotatedFrom: String?
        public var identity: FileIdentity
        public var offset: UInt64
        /// Size of the file with this identity, when it was found; nil otherwise.
        public var size: UInt64?
        /// Last change of the checkpoint (the last time lines were read and delivered).
        public var updatedMs: Int64
        public var state: State

        public var behind: UInt64? { size.map { $0 > offset ? $0 - offset : 0 } }
    }

    /// A checkpoint that has not moved for this long while bytes remain is flagged `stalled`: 5 min.
    public static let defaultStallAfterMs: Int64 = 300_000
    /// At most this much of a file's unread end is read to tell a partial last line from unread
    /// lines: status never reads a whole file.
    public static let partialLineWindow = 64 * 1024

    public var rows: [Row]
    /// Whether an agent holds `state_dir` now (see `StateDirectoryLock.holder`).
    public var agent: StateDirectoryLock.Holder
    /// The running agent's published status; when no agent runs, the last one published (see
    /// `publishedIsCurrent`). Nil when there is none, or the running agent has not published yet.
    public var published: AgentStatus?
    /// `published` comes from the agent running now (else it is the last known state).
    public var publishedIsCurrent: Bool
    /// Why the status file could not be used, when it exists but cannot be read.
    public var publishedProblem: String?
    /// The dead-letter count and file, when the caller adds them.
    public var deadLetters: (count: Int, path: String)?

    /// Reads the store in `stateDir` and looks for each file: at its last path, else among the
    /// files the `sources` match now, else in its last directory (a file renamed since, by inode
    /// and fingerprint).
    public init(
        stateDir: String, sources: [TailSource] = [], nowMs: Int64 = WallClock.nowMs(),
        stallAfterMs: Int64 = defaultStallAfterMs
    ) throws(CheckpointError) {
        let store = try CheckpointStore(directory: stateDir, createIfMissing: false)
        var elsewhere: [String]?  // matched paths, scanned only if some file is not at its last path
        var directories: [String: [UInt64: [String]]] = [:]  // entries by inode, per directory listed
        rows = store.checkpoints.values.sorted { ($0.path, $0.offset) < ($1.path, $1.offset) }.map { checkpoint in
            let identity = checkpoint.identity
            var found = Self.file(identity, at: checkpoint.path).map { (checkpoint.path, $0) }
            if found == nil, !sources.isEmpty {
                if elsewhere == nil { elsewhere = Discovery(sources: sources).scan().files.keys.sorted() }
                found =
                    elsewhere?.lazy.filter { $0 != checkpoint.path }
                    .compactMap { path in Self.file(identity, at: path).map { (path, $0) } }.first
            }
            if found == nil {
                let directory = PathText.parent(of: checkpoint.path)
                if directories[directory] == nil { directories[directory] = Self.entriesByInode(in: directory) }
                found =
                    (directories[directory]?[identity.inode] ?? []).lazy.filter { $0 != checkpoint.path }
                    .compactMap { path in Self.file(identity, at: path).map { (path, $0) } }.first
            }
            let size = found.flatMap { try? $0.1.status().size }
            let partial = found.map { Self.unreadIsPartialLine($0.1, offset: checkpoint.offset, size: size) } ?? false
            let moved = found.map { $0.0 != checkpoint.path } ?? false
            let state = Self.state(
                offset: checkpoint.offset, size: size, updatedMs: checkpoint.updatedMs, nowMs: nowMs,
                stallAfterMs: stallAfterMs, partialLine: partial, moved: moved)
            return Row(
                path: found?.0 ?? checkpoint.path, rotatedFrom: moved ? checkpoint.path : nil, identity: identity,
                offset: checkpoint.offset, size: size, updatedMs: checkpoint.updatedMs, state: state)
        }
        agent = StateDirectoryLock.holder(stateDir: stateDir)
        (published, publishedIsCurrent, publishedProblem) = Self.publishedStatus(stateDir: stateDir, agent: agent)
    }

    /// The state of a checkpoint at `offset` of a file of `size` bytes (nil: not found).
    /// `partialLine`: the unread bytes hold no newline. `moved`: found away from its recorded path.
    public static func state(
        offset: UInt64, size: UInt64?, updatedMs: Int64, nowMs: Int64, stallAfterMs: Int64,
        partialLine: Bool = false, moved: Bool = false
    ) -> State {
        guard let size else { return .gone }
        guard size > offset else { return moved ? .rotated : .ok }
        if partialLine { return .partial }
        return nowMs - updatedMs > stallAfterMs ? .stalled : .behind
    }

    /// Whether the bytes from `offset` to `size` are one line without its newline. Reads them only
    /// when they are at most `partialLineWindow` bytes: a longer unread part is not taken for a
    /// partial line (it would be a very long one, and complete lines may well be in it).
    static func unreadIsPartialLine(_ file: ReadableFile, offset: UInt64, size: UInt64?) -> Bool {
        guard let size, size > offset else { return false }
        let start = max(offset, size - min(size, UInt64(partialLineWindow)))
        guard start == offset, let bytes = try? file.bytes(at: start, length: Int(size - start)) else { return false }
        return !bytes.contains(UInt8(ascii: "\n"))
    }

    /// The file at `path` when it is the file with `identity`.
    private static func file(_ identity: FileIdentity, at path: String) -> ReadableFile? {
        guard let status = try? FileStatus.of(path: path), status.inode == identity.inode, status.isRegular,
            let file = try? ReadableFile(path: path),
            (try? identity.matches(file)) == true
        else { return nil }
        return file
    }

    /// The paths of `directory`'s entries by inode (one `stat` each, no file opened).
    private static func entriesByInode(in directory: String) -> [UInt64: [String]] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [:] }
        var result: [UInt64: [String]] = [:]
        for name in names.sorted() {
            let path = directory == "/" ? "/" + name : directory + "/" + name
            if let status = try? FileStatus.of(path: path), status.isRegular {
                result[status.inode, default: []].append(path)
            }
        }
        return result
    }
}
