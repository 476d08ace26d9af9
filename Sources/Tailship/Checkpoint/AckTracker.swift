/// Tracks, per open file, which read segments still have events in flight, and so how far the
/// file's checkpoint may advance: to the end of the longest prefix of segments whose events
/// were all accepted or dead-lettered (or that produced none). Responses may arrive in any
/// order; the checkpoint never passes an unresolved event.
///
/// A segment is a run of lines read together (one read chunk), so the bookkeeping costs one
/// entry per chunk, not per line. Pure value type: the agent guards it with a lock.
public struct AckTracker: Sendable {
    struct Segment: Sendable {
        var endOffset: UInt64
        var pending: Int
    }

    struct FileState: Sendable {
        var identity: FileIdentity
        var path: String
        var source: String
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

    /// A file whose committed offset moved, to be written into the checkpoint store.
    public struct Advance: Sendable, Equatable {
        public var file: Int
        public var identity: FileIdentity
        public var path: String
        public var source: String
        public var offset: UInt64
    }

    private var files: [Int: FileState] = [:]

    public init() {}

    /// Starts tracking `file`, whose checkpoint is currently `offset`.
    public mutating func open(file: Int, identity: FileIdentity, path: String, source: String, offset: UInt64) {
        files[file] = FileState(identity: identity, path: path, source: source, committed: offset)
    }

    /// The handle the next segment of `file` will get; events read in it carry this handle.
    public func nextHandle(file: Int) -> AckHandle {
        AckHandle(file: file, segment: files[file]?.nextId ?? 0)
    }

    /// Records a segment ending at `endOffset` with `pending` events sent for delivery.
    /// Returns the advance when the segment resolves the prefix at once (no pending events).
    public mutating func addSegment(file: Int, endOffset: UInt64, pending: Int) -> Advance? {
        guard var state = files[file] else { return nil }
        state.segments.append(Segment(endOffset: endOffset, pending: pending))
        files[file] = state
        return pending == 0 ? collapse(file: file) : nil
    }

    /// One event of segment `handle` was accepted or dead-lettered.
    public mutating func resolve(_ handle: AckHandle, count: Int = 1) -> Advance? {
        guard var state = files[handle.file], handle.segment >= state.baseId else { return nil }
        let index = state.head + Int(handle.segment - state.baseId)
        guard index < state.segments.count else { return nil }
        state.segments[index].pending -= count
        files[handle.file] = state
        return index == state.head ? collapse(file: handle.file) : nil
    }

    /// The file was reset (truncated): reading restarts at `offset`. Pending segments of the
    /// old content still resolve, but the checkpoint follows the new content from now on.
    public mutating func reset(file: Int, to offset: UInt64) -> Advance? {
        guard var state = files[file] else { return nil }
        state.baseId += UInt64(state.segments.count - state.head)
        state.segments.removeAll()
        state.head = 0
        state.committed = offset
        files[file] = state
        return Advance(file: file, identity: state.identity, path: state.path, source: state.source, offset: offset)
    }

    /// The reader is done with `file`; it is forgotten once nothing is outstanding.
    public mutating func close(file: Int) {
        guard var state = files[file] else { return }
        state.closed = true
        if state.outstanding == 0 { files[file] = nil } else { files[file] = state }
    }

    public func committed(file: Int) -> UInt64? { files[file]?.committed }

    /// Events read but not yet resolved, over all files.
    public var outstandingSegments: Int { files.values.reduce(0) { $0 + $1.outstanding } }

    private mutating func collapse(file: Int) -> Advance? {
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
        let advance = Advance(
            file: file, identity: state.identity, path: state.path, source: state.source,
            offset: state.committed)
        if state.closed, state.outstanding == 0 { files[file] = nil } else { files[file] = state }
        return state.committed != before ? advance : nil
    }
}
