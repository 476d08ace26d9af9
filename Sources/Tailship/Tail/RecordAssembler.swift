/// How a multiline source's lines join into records (the tailing side of `MultilineConfig`).
public struct RecordFraming: Sendable {
    /// Whether a line belongs to a new record, judged from its bytes.
    public typealias Matcher = (UnsafeRawBufferPointer) -> Bool

    /// A matching line begins a record (`start`); otherwise a matching line continues one.
    public var beginsOnMatch: Bool
    public var maxLines: Int
    public var maxBytes: Int
    public var timeout: Duration
    /// Makes the matcher for one reading thread: a compiled pattern keeps per-thread match state,
    /// so each splitter gets its own.
    public var makeMatcher: @Sendable () -> Matcher

    public init(
        beginsOnMatch: Bool, maxLines: Int, maxBytes: Int, timeout: Duration,
        makeMatcher: @escaping @Sendable () -> Matcher
    ) {
        precondition(maxLines > 0 && maxBytes > 0, "record limits must be positive")
        self.beginsOnMatch = beginsOnMatch
        self.maxLines = maxLines
        self.maxBytes = maxBytes
        self.timeout = timeout
        self.makeMatcher = makeMatcher
    }
}

/// Joins a file's lines into records for a `LineSplitter`: a record is its lines with `\n`
/// between them, at the offset of its first line, and its content basis (so its default
/// `$insert_id`) is its first line's. A record is complete when a line that begins the next one
/// arrives, when its timeout passes with no new line, at the end of a one-shot read, or when its
/// file is truncated or left for good (`LineSplitter.completeRecord`).
///
/// Positions: while a record is pending, what a checkpoint may record is its first line's offset
/// (`pendingOffset`), and a batch's `endOffset` stops there: a restart reads the record again,
/// whole. A line that does not begin a record but finds none pending (the file's first line, or
/// the first after a flushed one) begins one all the same: nothing is dropped for its shape.
///
/// Limits: a line that would take a record past `maxLines` lines or `maxBytes` bytes completes it
/// (flagged `truncated`: it was cut short) and begins the next one; a single line longer than
/// `maxBytes` is cut to it and is a record of its own. So a record at its limit never holds the
/// checkpoint back, and no line is skipped. Memory per file is bounded by `maxBytes` pending plus
/// the records completed by one chunk.
struct RecordAssembler {
    let framing: RecordFraming
    private let matches: RecordFraming.Matcher
    /// The pending record's bytes.
    private var pending: [UInt8] = []
    private var pendingLines = 0
    /// Offset of the pending record's first line; nil when none is pending.
    private(set) var pendingOffset: UInt64?
    /// Just past the pending record's first line (its basis covers the file's bytes up to there).
    private var pendingFirstEnd: UInt64 = 0
    private var pendingTruncated = false
    /// When the last line joined the pending record.
    private var lastJoin = ContinuousClock.now
    /// Records completed since the last `emit`, back to back, and where each lies.
    private var out: [UInt8] = []
    private var outEntries: [LineBatch.Entry] = []
    /// `matcher`: one made by `framing.makeMatcher()` to share between the splitters of one
    /// thread (each file of a source); by default the assembler makes its own.
    init(_ framing: RecordFraming, matcher: RecordFraming.Matcher? = nil) {
        self.framing = framing
        self.matches = matcher ?? framing.makeMatcher()
    }

    /// When the pending record becomes complete for want of a new line; nil when none is pending.
    var deadline: ContinuousClock.Instant? { pendingOffset == nil ? nil : lastJoin + framing.timeout }

    var pendingByteCount: Int { pending.count + out.count }

    /// Takes the lines of one chunk (read at `now`).
    mutating func take(_ lines: LineBatch, now: ContinuousClock.Instant) {
        for index in lines.indices {
            let entry = lines.entries[index]
            let bytes = lines[index].bytes
            let begins = pendingOffset == nil || matches(bytes) == framing.beginsOnMatch
            if begins || !fits(bytes) {
                if !begins { pendingTruncated = true }  // cut short by its limits
                complete()
                begin(bytes, entry: entry)
            } else {
                join(bytes, truncated: entry.truncated)
            }
            lastJoin = now
        }
    }

    /// Completes the pending record (if any): it goes out with the next `emit`.
    mutating func complete() {
        guard let offset = pendingOffset else { return }
        outEntries.append(
            .init(
                inCarry: false, start: out.count, count: pending.count, offset: offset, truncated: pendingTruncated,
                end: pendingFirstEnd))
        out.append(contentsOf: pending)
        if pending.capacity > 64 * 1024 { pending = [] } else { pending.removeAll(keepingCapacity: true) }
        pendingOffset = nil
        pendingLines = 0
        pendingTruncated = false
    }

    /// Calls `body` with the completed records (not at all when there are none). The batch ends at
    /// the pending record's start, or at `endOffset` (just past the last line taken) without one.
    mutating func emit(
        endOffset: UInt64, head: UnsafeRawBufferPointer, fullHeadHash: UInt64?, _ body: (LineBatch) throws -> Void
    ) rethrows {
        guard !outEntries.isEmpty else { return }
        defer {
            outEntries.removeAll(keepingCapacity: true)
            if out.capacity > 256 * 1024 { out = [] } else { out.removeAll(keepingCapacity: true) }
        }
        let end = pendingOffset ?? endOffset
        try out.withUnsafeBytes { bytes in
            try outEntries.withUnsafeBufferPointer { list in
                try body(
                    LineBatch(
                        carry: UnsafeRawBufferPointer(start: nil, count: 0), chunk: bytes, entries: list,
                        endOffset: end, head: head, fullHeadHash: fullHeadHash))
            }
        }
    }

    /// Forgets the pending record (the file was truncated, or reading moved elsewhere).
    mutating func reset() {
        pending = []
        out = []
        outEntries = []
        pendingOffset = nil
        pendingLines = 0
        pendingTruncated = false
    }

    /// Whether a line can join the pending record within its limits.
    private func fits(_ bytes: UnsafeRawBufferPointer) -> Bool {
        pendingLines < framing.maxLines && pending.count + 1 + bytes.count <= framing.maxBytes
    }

    private mutating func begin(_ bytes: UnsafeRawBufferPointer, entry: LineBatch.Entry) {
        let kept = min(bytes.count, framing.maxBytes)
        pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<kept]))
        pendingOffset = entry.offset
        pendingFirstEnd = entry.end
        pendingLines = 1
        pendingTruncated = entry.truncated || kept < bytes.count
        // A line as long as a record may be: complete at once (nothing can join it).
        if kept < bytes.count { complete() }
    }

    private mutating func join(_ bytes: UnsafeRawBufferPointer, truncated: Bool) {
        pending.append(UInt8(ascii: "\n"))
        pending.append(contentsOf: bytes)
        pendingLines += 1
        if truncated { pendingTruncated = true }
    }
}
