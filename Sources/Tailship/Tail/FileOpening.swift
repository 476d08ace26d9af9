/// A file the tailer starts reading: which one, and from where.
public struct FileOpening: Sendable, Equatable {
    public var file: Int
    public var source: Int
    public var path: String
    public var key: FileKey
    public var identity: FileIdentity
    /// Where reading starts: the first line not yet acknowledged.
    public var offset: UInt64
    /// Nil when resumed from a checkpoint on disk; otherwise the file is first seen (or seen
    /// anew after a truncation or rewrite) and this is why it starts at `offset`.
    public var start: StartReason?
    /// For `import`: the fingerprint of the rules reading it (see `Checkpoint.rules`).
    public var rules: String?

    public init(
        file: Int, source: Int, path: String, key: FileKey, identity: FileIdentity, offset: UInt64,
        start: StartReason?
    ) {
        self.file = file
        self.source = source
        self.path = path
        self.key = key
        self.identity = identity
        self.offset = offset
        self.start = start
    }
}

/// Which recorded file, if any, the file at a path is (see `CheckpointStore.resumeDecision`):
/// given its path and `fstat`, and a test of a recorded identity against its first bytes.
public typealias ResumeLookup =
    @Sendable (_ path: String, _ status: FileStatus, _ matches: (FileIdentity) -> Bool) -> ResumeDecision

/// How a file's position was first decided (`start` in `checkpoints.json`).
public enum StartReason: String, Sendable, Codable, Equatable {
    /// Present when the agent started, first seen then, `start_at: end`: what it held then was
    /// skipped.
    case end
    /// Present when the agent started, first seen then, `start_at: beginning`.
    case beginning
    /// Appeared while the agent was running: read from its first byte, whatever `start_at` says.
    case appeared
    /// Truncated (or rewritten from its start) while being read: its new content, from 0.
    case truncated
    /// Found at start at its recorded path and inode with other first bytes, or shorter than
    /// its checkpoint: truncated or rewritten while the agent was stopped; read from 0.
    case rewritten
    /// Carried over from a checkpoint file of format version 1.
    case migrated
}

/// A recorded position: the file's key and identity, and the offset of the first line not yet
/// acknowledged.
public struct ResumePoint: Sendable, Equatable {
    public var key: FileKey
    public var identity: FileIdentity
    public var offset: UInt64
    /// The source, and for `import` the rules fingerprint, it was recorded under.
    public var source: String = ""
    public var rules: String?

    public init(key: FileKey, identity: FileIdentity, offset: UInt64, source: String = "", rules: String? = nil) {
        self.key = key
        self.identity = identity
        self.offset = offset
        self.source = source
        self.rules = rules
    }
}

/// Where a file found now stands with respect to the checkpoint store: which recorded file it
/// is, if any.
public enum ResumeDecision: Sendable, Equatable {
    /// This recorded file: resume at its offset (0 when the file is now shorter than that).
    case resume(ResumePoint)
    /// A file recorded at this path and inode on this device, but its first bytes changed
    /// (rewritten or truncated and refilled while the agent was stopped): new content, from 0.
    case rewritten(ResumePoint)
    /// Never seen: `start_at` decides.
    case unknown
}
