/// How far one file has been durably handled: every line before `offset` produced an event
/// that the API accepted or that was dead-lettered, or produced no event at all.
public struct Checkpoint: Sendable, Equatable, Codable {
    public var identity: FileIdentity
    /// Last path the file was seen at; informational only (identity is never the path).
    public var path: String
    public var source: String
    public var offset: UInt64
    /// Milliseconds since the epoch of the last change of `offset`.
    public var updatedMs: Int64

    public init(identity: FileIdentity, path: String, source: String, offset: UInt64, updatedMs: Int64) {
        self.identity = identity
        self.path = path
        self.source = source
        self.offset = offset
        self.updatedMs = updatedMs
    }
}

/// The on-disk document. `version` lets a later tailship migrate or refuse an older layout.
struct CheckpointFile: Codable {
    static let currentVersion = 1
    var version: Int
    var checkpoints: [Checkpoint]
}
