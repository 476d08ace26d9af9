/// Tracks, per open file, which read segments still have events in flight, and so how far the
/// file's checkpoint may advance: to the end of the longest prefix of segments whose events
/// were all accepted or dead-lettered (or that produced none). Responses may arrive in any
/// order; the checkpoint never passes an unresolved event.
///
/// A segment is a run of lines read together (one read chunk), so the bookkeeping costs one
/// entry per chunk, not per line. Segment ids are given by the caller, in order from 0 per
/// file (the rule stage numbers them as it reads). Pure value type, owned by `Checkpointer`.
public struct AckTracker: Sendable {
    struct Segment: Sendable {
        var endOffset: UInt64
        var pending: Int
    }

    struct FileState: Sendable {
        /// Offset every resolved prefix has reached.
        var committed: UInt64
        /// Id of `segments[head]`; ids grow by one per segment.
        var baseId: UInt64 = 0
        var head = 0
        var segments: [Segment] = []
        var closed = false

        var nextId: UInt64 { baseId + UInt64(segments.count - head) }
        var outstanding: Int { segments.count - head }
    }

    private var files: [Int: FileState] = [:]

    public init() {}

    /// Starts tracking `file`, whose checkpoint is currently `offset`.
    public mutating func open(file: Int, offset: UInt64) {
        files[file] = FileState(committed: offset)
    }

    /// Records segment `handle` (the file's next) ending at `endOffset` with `pending` events sent
    /// for delivery. Returns the new committed offset when the prefix advances at once (a segment
    /// with no pending events behind only resolved ones). An out-of-order id is ignored: it
    /// would break the count, and it can only come from a file this tracker does not follow.
    public mutating func addSegment(_ handle: AckHandle, endOffset: UInt64, pending: Int) -> UInt64? {
        guard var state = files[handle.file], handle.segment == state.nextId else { return nil }
        state.segments.append(Segment(endOffset: endOffset, pending: pending))
        files[handle.file] = state
        return pending == 0 ? collapse(file: handle.file) : nil
    }

    /// `count` events of segment `handle` were accepted or dead-lettered. Returns the new
    /// committed offset when the prefix advances.
    public mutating func resolve(_ handle: AckHandle, count: Int = 1) -> UInt64? {
        guard var state = files[handle.file], handle.segment >= state.baseId else { return nil }
        let index = state.head + Int(handle.segment - state.baseId)
        guard index < state.segments.count else { return nil }
        state.segments[index].pending -= count
        files[handle.file] = state
        return index == state.head ? collapse(file: handle.file) : nil
    }

    /// The reader is done with `file`; it is forgotten once nothing is outstanding.
    public mutating func close(file: Int) {
        guard var state = files[file] else { return }
        state.closed = true
        if state.outstanding == 0 { files[file] = nil } else { files[file] = state }
    }

    public func committed(file: Int) -> UInt64? { files[file]?.committed }

    /// Whether `file` is tracked (open, or closed with segments outstanding).
    public func isTracked(file: Int) -> Bool { files[file] != nil }

    /// Segments read but not yet resolved, over all files.
    public var outstandingSegments: Int { files.values.reduce(0) { $0 + $1.outstanding } }

    private mutating func collapse(file: Int) -> UInt64? {
        guard var state = files[file] else { return nil }
        let before = state.committed
        while state.head < state.segments.count, state.segments[state.head].pending <= 0 {
            state.committed = state.segments[state.head].endOffset
            state.head += 1
            state.baseId += 1
        }
        // Compact now and then so the array does not grow without bound.
        if state.head > 64, state.head * 2 > state.segments.count {
            state.segments.removeFirst(state.head)
            state.head = 0
        }
        let committed = state.committed
        if state.closed, state.outstanding == 0 { files[file] = nil } else { files[file] = state }
        return committed != before ? committed : nil
    }
}
