/// Identifies the read segment (a run of lines of one file, one read chunk) an event belongs
/// to; `Checkpointer` moves the file's checkpoint over a segment once all of its events are
/// acknowledged.
public struct AckHandle: Sendable, Hashable {
    public var file: Int
    public var segment: UInt64

    public init(file: Int, segment: UInt64) {
        self.file = file
        self.segment = segment
    }
}

/// How events left the shipper; either way their lines are done with.
public enum DeliveryResult: Sendable, Equatable {
    /// Accepted by the destination (or already accepted earlier in this run).
    case accepted
    /// Refused for good and written (fsynced) to the dead-letter file.
    case deadLettered
}

/// Where acknowledgements travel: forward, as values, into the checkpointer's queue.
public protocol AcknowledgementSink: AnyObject, Sendable {
    /// `handles` (one per event, repeated when events share a segment) are done with.
    func acknowledge(_ handles: [AckHandle], result: DeliveryResult)
}
