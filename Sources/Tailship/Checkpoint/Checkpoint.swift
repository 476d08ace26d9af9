/// The durable position of one tracked file: every line before `offset` produced an event that
/// the API accepted or that was dead-lettered, or produced no event at all. Written when the
/// file is first seen (at the offset `start` chose), then moved by acknowledgements.
public struct Checkpoint: Sendable, Equatable, Codable {
    /// The file's stable name in the store (see `FileKey`).
    public var key: FileKey
    /// Inode and first-bytes fingerprint, upgraded in place as a young file grows; the device
    /// is where it was last seen.
    public var identity: FileIdentity
    /// Last path the file was seen at: informational, and the evidence that lets a renumbered
    /// device be followed (identity is never the path).
    public var path: String
    public var source: String
    public var offset: UInt64
    /// Why the position began where it did, decided once, when the file was first seen.
    public var start: StartReason
    /// Milliseconds since the epoch when the file was first seen.
    public var firstSeenMs: Int64
    /// Milliseconds since the epoch of the last change of `offset`.
    public var updatedMs: Int64
    /// For `import`: a fingerprint of the source's rules that read the file. Progress made under
    /// other rules (another `--source`, or rules changed since) is not resumed.
    public var rules: String?

    public init(
        key: FileKey, identity: FileIdentity, path: String, source: String, offset: UInt64,
        start: StartReason, firstSeenMs: Int64, updatedMs: Int64
    ) {
        self.key = key
        self.identity = identity
        self.path = path
        self.source = source
        self.offset = offset
        self.start = start
        self.firstSeenMs = firstSeenMs
        self.updatedMs = updatedMs
    }
}

/// The on-disk document. `version` lets a later tailship migrate or refuse an older layout.
struct CheckpointFile: Codable {
    static let currentVersion = 2
    var version: Int
    var checkpoints: [Checkpoint]
}

/// Format version 1 (tailship before stable identities), read only to migrate it.
struct CheckpointFileV1: Codable {
    struct Entry: Codable {
        var identity: FileIdentity
        var path: String
        var source: String
        var offset: UInt64
        var updatedMs: Int64
    }
    var version: Int
    var checkpoints: [Entry]
}
