/// The file an event's line was read from: its source, path and identity, shared by the
/// events of every read of that file until it moves (one reference per event, not three
/// strings and an identity: an event waiting in a batch costs 48 bytes besides its JSON).
public final class OriginFile: Sendable {
    public let source: String
    public let path: String
    public let identity: FileIdentity

    public init(source: String, path: String, identity: FileIdentity) {
        self.source = source
        self.path = path
        self.identity = identity
    }
}

/// Where an event came from: enough to acknowledge it once delivered and to write a useful
/// dead letter (path, identity, byte offset, rule; the line itself is read again from there).
public struct EventOrigin: Sendable {
    /// Its file (source, path, identity), shared with the other events read from it.
    public var file: OriginFile
    /// Byte offset of the start of the line in the file.
    public var offset: UInt64
    public var rule: String
    /// The read segment the event's line belongs to; handed back to the checkpointer when the
    /// event is accepted or dead-lettered.
    public var ack: AckHandle

    public init(file: OriginFile, offset: UInt64, rule: String, ack: AckHandle) {
        self.file = file
        self.offset = offset
        self.rule = rule
        self.ack = ack
    }

    public init(source: String, path: String, identity: FileIdentity, offset: UInt64, rule: String, ack: AckHandle) {
        self.init(
            file: OriginFile(source: source, path: path, identity: identity), offset: offset, rule: rule, ack: ack)
    }

    public var source: String {
        get { file.source }
        set { file = OriginFile(source: newValue, path: file.path, identity: file.identity) }
    }

    public var path: String {
        get { file.path }
        set { file = OriginFile(source: file.source, path: newValue, identity: file.identity) }
    }

    public var identity: FileIdentity {
        get { file.identity }
        set { file = OriginFile(source: file.source, path: file.path, identity: newValue) }
    }
}

/// An event and its origin, for `Shipper.submit` from a caller that made an `Event` (the rule
/// stage hands over `EncodedEvents`). It does not keep the line it came from.
public struct PendingEvent: Sendable {
    public var event: Event
    public var origin: EventOrigin

    public init(event: Event, origin: EventOrigin) {
        self.event = event
        self.origin = origin
    }
}
