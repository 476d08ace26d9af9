/// Why the tailer stopped reading a file.
public enum FileCloseReason: String, Sendable, Hashable {
    /// Renamed away (its path now names another file, or a name no glob matches) and read to
    /// its end.
    case rotated
    /// Deleted and read to its end.
    case deleted
    /// Shrunk below the read offset, or rewritten from the start (copytruncate): its content is
    /// new. The descriptor stays open and is announced again, under a new file id, from offset 0.
    case truncated
    /// A read failed (the error is logged); a later rescan reopens it and resumes it.
    case failed
    /// The tailer was stopped.
    case stopped
}

/// Receives what the tailer reads, synchronously on the tail thread. Backpressure: while the
/// sink has no room (`hasRoom`), the tailer reads nothing (the log files are the buffer) but
/// keeps watching, so files that appear meanwhile are opened and held by their descriptors; a
/// sink may instead block in `lines`, which pauses everything.
///
/// File ids are small integers, unique for the life of one `Tailer`, and a file keeps its id
/// while it stays open (even when renamed); a truncated file gets a new id.
public protocol LineSink: AnyObject, Sendable {
    /// A file is being read from `offset` (resumed from a checkpoint, or first seen).
    func fileOpened(file: Int, source: Int, path: String, identity: FileIdentity, offset: UInt64)
    /// Complete lines of `file`, in order. `batch.endOffset` is just past the last line's `\n`.
    /// The batch and its bytes are valid only during this call.
    func lines(file: Int, _ batch: LineBatch)
    /// An open file was renamed to another path that still matches its source.
    func fileMoved(file: Int, path: String)
    /// The file was read to its end and closed, or truncated (see `FileCloseReason`); no more
    /// lines come for this id.
    func fileClosed(file: Int, reason: FileCloseReason)
    /// After each rescan (on the tail thread): which files exist, for checkpoint pruning.
    func filesScanned(_ scan: FileScan)
    /// Whether more lines can be taken now. While false the tailer reads nothing and calls
    /// `waitForRoom` each turn (it may still hand over the last line of a file it closes).
    var hasRoom: Bool { get }
    /// Waits up to `timeout` for room, handing on what the sink holds back meanwhile; returns
    /// `hasRoom`.
    func waitForRoom(timeout: Duration) -> Bool
}

extension LineSink {
    /// Default: renames do not matter to the sink.
    public func fileMoved(file: Int, path: String) {}
    /// Default: nothing to prune.
    public func filesScanned(_ scan: FileScan) {}
    /// Default: a sink that takes every line at once (or blocks in `lines`).
    public var hasRoom: Bool { true }
    public func waitForRoom(timeout: Duration) -> Bool { true }
}

/// A checkpointed position: the identity it was recorded for, and the offset of the first
/// line not yet delivered.
public struct ResumePoint: Sendable, Hashable {
    public var identity: FileIdentity
    public var offset: UInt64

    public init(identity: FileIdentity, offset: UInt64) {
        self.identity = identity
        self.offset = offset
    }
}

/// Given a file's device and inode, the checkpoints recorded for them (usually zero or one;
/// more after inode reuse). The tailer resumes from the one whose fingerprint still matches
/// the file's first `fingerprintLength` bytes, adopting that identity. Lookup is by device and
/// inode, not by a computed identity, because a recorded fingerprint may cover fewer bytes than
/// the file now has (see `FileIdentity.fingerprintLength`).
public typealias ResumeLookup = @Sendable (_ device: UInt64, _ inode: UInt64) -> [ResumePoint]

/// One open file as shown by `Tailer.currentFiles()`.
public struct TailedFileStatus: Sendable, Hashable {
    public var file: Int
    public var source: Int
    public var path: String
    /// Nil while the file is still empty.
    public var identity: FileIdentity?
    /// Offset of the first line not yet handed to the sink.
    public var offset: UInt64
    /// Renamed away or deleted, and being read to its end.
    public var draining: Bool
}

/// What a rescan found, for pruning checkpoints of files that are gone (`LineSink.filesScanned`).
public struct FileScan: Sendable {
    /// Identities the tailer holds now: every matched file, open or idle, draining or not.
    public var live: Set<FileIdentity>
    /// For files the tailer stopped reading this run (drained after a rename or delete, or
    /// truncated): the offset where reading ended. A checkpoint at or past it is fully read.
    public var readEnds: [FileIdentity: UInt64]
    /// When this tailer started watching (ms since the epoch): a checkpoint not sighted since
    /// then, for longer than the grace period, belongs to a file that went away while stopped.
    public var watchingSinceMs: Int64

    public init(live: Set<FileIdentity>, readEnds: [FileIdentity: UInt64], watchingSinceMs: Int64) {
        self.live = live
        self.readEnds = readEnds
        self.watchingSinceMs = watchingSinceMs
    }
}
