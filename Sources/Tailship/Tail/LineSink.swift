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
/// Positions first: a file is announced (`fileOpened`) before any of its lines, and none of its
/// lines is read until the sink says its position is durable (`isDurable`), so a crash at any
/// moment finds every file the tailer ever read recorded at or before its first unacknowledged
/// line.
///
/// File ids are small integers, unique for the life of one `Tailer`, and a file keeps its id
/// while it stays open (even when renamed); a truncated file gets a new id.
public protocol LineSink: AnyObject, Sendable {
    /// A file is tracked from now on, read from `opening.offset`: resumed from its checkpoint,
    /// or first seen (`opening.start` says why it starts there; that position must be made
    /// durable before `isDurable` says yes).
    func fileOpened(_ opening: FileOpening)
    /// Whether `file`'s starting position is durable, so its lines may be read.
    func isDurable(file: Int) -> Bool
    /// Waits up to `timeout` for every announced position to be durable; returns whether they are.
    func waitUntilDurable(timeout: Duration) -> Bool
    /// Complete lines of `file`, in order. `batch.endOffset` is just past the last line's `\n`.
    /// The batch and its bytes are valid only during this call.
    func lines(file: Int, _ batch: LineBatch)
    /// `file`'s position moves on to `offset` over bytes it repeats from `original` (a copy of
    /// content already read there): once `original`'s own position has reached `offset`, since
    /// what was read there may not be acknowledged yet.
    func skipped(file: Int, to offset: UInt64, coveredBy original: Int)
    /// `file`'s identity changed: its fingerprint grew with it.
    func identityChanged(file: Int, identity: FileIdentity)
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
    /// Default: positions need no saving.
    public func isDurable(file: Int) -> Bool { true }
    public func waitUntilDurable(timeout: Duration) -> Bool { true }
    /// Default: skipped bytes, identities and renames do not matter to the sink.
    public func skipped(file: Int, to offset: UInt64, coveredBy original: Int) {}
    public func identityChanged(file: Int, identity: FileIdentity) {}
    public func fileMoved(file: Int, path: String) {}
    /// Default: nothing to prune.
    public func filesScanned(_ scan: FileScan) {}
    /// Default: a sink that takes every line at once (or blocks in `lines`).
    public var hasRoom: Bool { true }
    public func waitForRoom(timeout: Duration) -> Bool { true }
}

/// One open file as shown by `Tailer.currentFiles()`.
public struct TailedFileStatus: Sendable, Hashable {
    public var file: Int
    public var source: Int
    public var path: String
    /// Nil until the file is established (its first turn).
    public var identity: FileIdentity?
    /// Offset of the first line not yet handed to the sink.
    public var offset: UInt64
    /// Renamed away or deleted, and being read to its end.
    public var draining: Bool
}

/// A matched path the tailer cannot open (`Tailer.unopenableFiles()`): tried again at every
/// rescan while it matches.
public struct UnopenableFile: Sendable, Hashable, Codable {
    public var path: String
    /// The failure as logged by `tail.open_failed` (the system's reason and errno).
    public var error: String
    /// Ms since the epoch of the first failure.
    public var sinceMs: Int64

    public init(path: String, error: String, sinceMs: Int64) {
        self.path = path
        self.error = error
        self.sinceMs = sinceMs
    }
}

/// What a rescan found, for pruning checkpoints of files that are gone (`LineSink.filesScanned`).
public struct FileScan: Sendable {
    /// The files the tailer holds now: every matched file, open or idle, draining or not.
    public var live: Set<FileKey>
    /// For files the tailer stopped reading this run (drained after a rename or delete, or
    /// truncated): the offset where reading ended. A checkpoint at or past it is fully read.
    public var readEnds: [FileKey: UInt64]
    /// When this tailer started watching (ms since the epoch): a checkpoint not sighted since
    /// then, for longer than the grace period, belongs to a file that went away while stopped.
    public var watchingSinceMs: Int64

    public init(live: Set<FileKey>, readEnds: [FileKey: UInt64], watchingSinceMs: Int64) {
        self.live = live
        self.readEnds = readEnds
        self.watchingSinceMs = watchingSinceMs
    }
}
