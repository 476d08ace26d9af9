/// Where an event came from: enough to acknowledge it once delivered and to write a useful
/// dead letter (path, identity, byte offset, rule; the line itself is read again from there).
public struct EventOrigin: Sendable {
    public var source: String
    public var path: String
    public var identity: FileIdentity
    /// Byte offset of the start of the line in the file.
    public var offset: UInt64
    public var rule: String
    /// The read segment the event's line belongs to; handed back to the checkpointer when the
    /// event is accepted or dead-lettered.
    public var ack: AckHandle

    public init(source: String, path: String, identity: FileIdentity, offset: UInt64, rule: String, ack: AckHandle) {
        self.source = source
        self.path = path
        self.identity = identity
        self.offset = offset
        self.rule = rule
        self.ack = ack
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
