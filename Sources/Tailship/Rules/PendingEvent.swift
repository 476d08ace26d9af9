/// Where an event came from: enough to acknowledge it once delivered and to write a useful
/// dead letter (path, identity, byte offset, rule, raw line).
public struct EventOrigin: Sendable {
    public var source: String
    public var path: String
    public var identity: FileIdentity
    /// Byte offset of the start of the line in the file.
    public var offset: UInt64
    public var rule: String
    /// Opaque handle the agent's acknowledgement tracker gave this event's line; the shipper
    /// hands it back when the event is accepted or dead-lettered.
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

/// Identifies the read segment (a run of lines of one file) an event belongs to.
public struct AckHandle: Sendable, Hashable {
    public var file: Int
    public var segment: UInt64

    public init(file: Int, segment: UInt64) {
        self.file = file
        self.segment = segment
    }
}

/// An event on its way to the destination, with its origin and the raw line it came from.
public struct PendingEvent: Sendable {
    public var event: Event
    public var origin: EventOrigin
    public var rawLine: String

    public init(event: Event, origin: EventOrigin, rawLine: String) {
        self.event = event
        self.origin = origin
        self.rawLine = rawLine
    }
}
