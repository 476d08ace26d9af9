#if canImport(Glibc)
    import Glibc
#endif

/// Frames a file's bytes into lines. Feed it consecutive chunks; it hands back each chunk's
/// complete lines as slices of that chunk (no copy), except a line that began in an earlier
/// chunk, which it assembles in a small carry buffer it keeps between calls.
///
/// Line rules: a line ends at `\n`; the `\n` and one `\r` just before it are not part of it;
/// every other byte (NUL, invalid UTF-8) passes through untouched. An unterminated last line is
/// held until its `\n` arrives (or `flush` is called at the end of a one-shot read).
///
/// Long lines: a line whose content exceeds `maxLineBytes` is emitted, once its `\n` arrives,
/// as its first `maxLineBytes` bytes flagged `truncated`; the rest is skipped without being
/// stored, and `truncatedLines` counts it. Memory per file is thus bounded by `maxLineBytes`,
/// and the file is never abandoned. The line's offset is that of its true start, and the
/// batch's `endOffset` lies past its `\n`, so a restart does not re-read its tail as a line.
///
/// The head: the file's first `FileIdentity.maxFingerprintBytes` bytes, kept as they are fed
/// (or `prime`d from the file when reading starts further on), so that every line's *content
/// basis* (`Line.basis`, the input of its default `$insert_id`) is a function of the bytes
/// alone, whichever reader (`run`, `test`, `import`) framed them.
///
/// Records: with a `RecordFraming` (a multiline source) the lines go through a
/// `RecordAssembler` and the batches hold records instead; `lineStartOffset` is then the pending
/// record's start, and `completeRecordIfDue` ends a record its writer left unfinished.
public struct LineSplitter {
    public let maxLineBytes: Int
    /// File offset of the next byte to be fed.
    public private(set) var nextOffset: UInt64
    /// File offset of the first byte of the pending (unterminated) line, or of the pending
    /// record's first line; equals `nextOffset` when nothing is pending. This is what a
    /// checkpoint may safely record.
    public var lineStartOffset: UInt64 { records?.pendingOffset ?? lineStart }
    /// File offset of the first byte of the pending (unterminated) line.
    private var lineStart: UInt64
    /// How many lines were framed so far (with records, the lines they were made of).
    public private(set) var linesFramed = 0
    /// How many lines were longer than `maxLineBytes` so far.
    public private(set) var truncatedLines: Int = 0

    /// Bytes of the pending line kept so far: at most `maxLineBytes + 1` (one extra for a `\r`
    /// that may turn out to precede the `\n`).
    private var carry: [UInt8] = []
    /// The pending line is known to be over the limit: further bytes up to `\n` are dropped.
    private var skipping = false
    /// Joins lines into records, for a multiline source.
    private var records: RecordAssembler?
    /// Reused between calls so a batch costs no allocation once warmed up.
    private var entries: [LineBatch.Entry] = []
    /// The file's bytes [0, head.count), at most `headCapacity`.
    public private(set) var head: [UInt8] = []
    /// FNV-1a-64 of the whole head once it holds `headCapacity` bytes.
    private var fullHeadHash: UInt64?
    public static let headCapacity = FileIdentity.maxFingerprintBytes

    /// A splitter whose first fed byte sits at `startOffset` in the file.
    /// With `framing`, batches hold records instead of lines; `matcher`, when given, is the
    /// framing's matcher shared by the splitters of one thread (see `RecordAssembler.init`).
    public init(
        startOffset: UInt64 = 0, maxLineBytes: Int, framing: RecordFraming? = nil,
        matcher: RecordFraming.Matcher? = nil
    ) {
        precondition(maxLineBytes > 0, "maxLineBytes must be positive")
        self.maxLineBytes = maxLineBytes
        self.nextOffset = startOffset
        self.lineStart = startOffset
        self.records = framing.map { RecordAssembler($0, matcher: matcher) }
    }

    /// Bytes held for the pending line (and record).
    public var pendingByteCount: Int { carry.count + (records?.pendingByteCount ?? 0) }

    /// When the pending record is complete for want of a new line; nil without one.
    public var recordDeadline: ContinuousClock.Instant? { records?.deadline }

    /// Ends the pending record if its timeout passed by `now`, calling `body` with it: the batch
    /// ends just past the last complete line. Returns whether it did.
    @discardableResult
    public mutating func completeRecordIfDue(now: ContinuousClock.Instant, _ body: (LineBatch) throws -> Void)
        rethrows -> Bool
    {
        guard let deadline = records?.deadline, deadline <= now else { return false }
        try completeRecord(body)
        return true
    }

    /// Ends the pending record now, if there is one, calling `body` with it (the batch ends just
    /// past the last complete line): its file is about to be truncated away, or left for good.
    public mutating func completeRecord(_ body: (LineBatch) throws -> Void) rethrows {
        guard var assembler = records, assembler.pendingOffset != nil else { return }
        records = nil
        defer { records = assembler }
        assembler.complete()
        try emit(&assembler, endOffset: lineStart, body)
    }

    /// Forgets any pending line and continues at `offset` (after a truncation, or a seek). The
    /// head is kept up to `offset` (it describes the same file) unless `head` replaces it.
    public mutating func reset(to offset: UInt64, head: [UInt8]? = nil) {
        carry = []
        skipping = false
        records?.reset()
        nextOffset = offset
        lineStart = offset
        if let head { prime(head: head) }
        if UInt64(self.head.count) > offset { self.head.removeLast(self.head.count - Int(offset)) }
        if self.head.count < Self.headCapacity { fullHeadHash = nil }
    }

    /// Sets the file's first bytes: those before the offset reading starts at (or the first
    /// `headCapacity`, when it starts beyond them).
    public mutating func prime(head bytes: [UInt8]) {
        head = Array(bytes.prefix(Self.headCapacity))
        fullHeadHash = head.count == Self.headCapacity ? FNV64.hash(head) : nil
    }

    /// Records bytes at `offset` that are not fed (skipped up to a resume point), for the head.
    public mutating func observe(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) {
        extendHead(bytes, at: offset)
    }

    private mutating func extendHead(_ chunk: UnsafeRawBufferPointer, at offset: UInt64) {
        let have = UInt64(head.count)
        guard have < UInt64(Self.headCapacity), offset <= have, offset + UInt64(chunk.count) > have else { return }
        let from = Int(have - offset)
        let to = min(chunk.count, Self.headCapacity - Int(offset))
        head.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[from..<to]))
        if head.count == Self.headCapacity { fullHeadHash = FNV64.hash(head) }
    }

    /// Feeds the next chunk of the file and calls `body` once with its complete lines (not at
    /// all when it completes none).
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, _ body: (LineBatch) throws -> Void) rethrows {
        guard chunk.count > 0 else { return }
        entries.removeAll(keepingCapacity: true)
        let chunkOffset = nextOffset
        extendHead(chunk, at: chunkOffset)
        nextOffset += UInt64(chunk.count)
        var position = 0
        let pending = !carry.isEmpty || skipping

        if pending {
            guard let newline = Self.find(chunk, from: 0) else {
                appendToCarry(chunk, count: chunk.count)
                return
            }
            // Complete the pending line: only the bytes that can appear in its output are kept.
            let totalLength = carry.count + newline
            let lastByte: UInt8? = newline > 0 ? chunk[newline - 1] : carry.last
            var content = totalLength - (lastByte == UInt8(ascii: "\r") ? 1 : 0)
            var truncated = skipping
            if content > maxLineBytes { truncated = true }
            if truncated { content = maxLineBytes }
            let needed = content - carry.count
            if needed > 0 { carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<needed])) }
            if truncated { truncatedLines += 1 }
            position = newline + 1
            entries.append(
                .init(
                    inCarry: true, start: 0, count: content, offset: lineStart, truncated: truncated,
                    end: chunkOffset + UInt64(position)))
        }

        while let newline = Self.find(chunk, from: position) {
            var content = newline - position
            if content > 0 && chunk[newline - 1] == UInt8(ascii: "\r") { content -= 1 }
            let truncated = content > maxLineBytes
            if truncated {
                content = maxLineBytes
                truncatedLines += 1
            }
            entries.append(
                .init(
                    inCarry: false, start: position, count: content, offset: chunkOffset + UInt64(position),
                    truncated: truncated, end: chunkOffset + UInt64(newline + 1)))
            position = newline + 1
        }

        if !entries.isEmpty {
            let end = chunkOffset + UInt64(position)
            try deliver(chunk: chunk, endOffset: end, body)
        }
        if pending {
            // The carried line was emitted; drop it, and its memory if a long line grew it.
            if carry.capacity > 64 * 1024 { carry = [] } else { carry.removeAll(keepingCapacity: true) }
            skipping = false
        }
        // Whatever follows the last `\n` (possibly nothing) is the pending line.
        lineStart = chunkOffset + UInt64(position)
        if position < chunk.count {
            appendToCarry(UnsafeRawBufferPointer(rebasing: chunk[position...]), count: chunk.count - position)
        }
    }

    /// At the end of a one-shot read (or of a file that cannot grow any more): emits the pending
    /// unterminated line, if any, as a last line (without a trailing `\r`), and the pending
    /// record, and leaves the splitter empty.
    public mutating func flush(_ body: (LineBatch) throws -> Void) rethrows {
        try flushLine(body)
        if var assembler = records {
            records = nil
            defer { records = assembler }
            assembler.complete()
            try emit(&assembler, endOffset: nextOffset, body)
        }
        reset(to: nextOffset)
    }

    private mutating func flushLine(_ body: (LineBatch) throws -> Void) rethrows {
        guard !carry.isEmpty || skipping else { return }
        var content = carry.count
        if !skipping, content > 0, carry[content - 1] == UInt8(ascii: "\r") { content -= 1 }
        let truncated = skipping || content > maxLineBytes
        if truncated {
            content = min(content, maxLineBytes)
            truncatedLines += 1
        }
        entries.removeAll(keepingCapacity: true)
        entries.append(
            .init(inCarry: true, start: 0, count: content, offset: lineStart, truncated: truncated, end: nextOffset))
        try deliver(chunk: UnsafeRawBufferPointer(start: nil, count: 0), endOffset: nextOffset, body)
        carry = []
        skipping = false
        lineStart = nextOffset
    }

    /// Hands the batch of `entries` to `body`, or, for a multiline source, to the assembler, and
    /// `body` the records they complete.
    private mutating func deliver(
        chunk: UnsafeRawBufferPointer, endOffset: UInt64, _ body: (LineBatch) throws -> Void
    ) rethrows {
        linesFramed += entries.count
        guard var assembler = records else { return try withBatch(chunk: chunk, endOffset: endOffset, body) }
        // Moved out while the batch borrows `self`'s buffers (no copy: the value is unique).
        records = nil
        defer { records = assembler }
        let now = ContinuousClock.now
        withBatch(chunk: chunk, endOffset: endOffset) { assembler.take($0, now: now) }
        try emit(&assembler, endOffset: endOffset, body)
    }

    private func emit(
        _ assembler: inout RecordAssembler, endOffset: UInt64, _ body: (LineBatch) throws -> Void
    ) rethrows {
        let fullHeadHash = self.fullHeadHash
        try head.withUnsafeBytes { head in
            try assembler.emit(endOffset: endOffset, head: head, fullHeadHash: fullHeadHash, body)
        }
    }

    /// Calls `body` with the batch of `entries` (then emptied).
    private mutating func withBatch(
        chunk: UnsafeRawBufferPointer, endOffset: UInt64, _ body: (LineBatch) throws -> Void
    ) rethrows {
        let fullHeadHash = self.fullHeadHash
        try carry.withUnsafeBytes { carryBytes in
            try head.withUnsafeBytes { headBytes in
                try entries.withUnsafeBufferPointer { list in
                    try body(
                        LineBatch(
                            carry: carryBytes, chunk: chunk, entries: list, endOffset: endOffset, head: headBytes,
                            fullHeadHash: fullHeadHash))
                }
            }
        }
        entries.removeAll(keepingCapacity: true)
    }

    /// Adds bytes of the pending line, keeping at most `maxLineBytes + 1`; past that the line is
    /// over the limit and the rest until `\n` is dropped.
    private mutating func appendToCarry(_ bytes: UnsafeRawBufferPointer, count: Int) {
        guard !skipping, count > 0 else { return }
        let room = maxLineBytes + 1 - carry.count
        if count > room {
            carry.append(
                contentsOf: UnsafeRawBufferPointer(rebasing: bytes[bytes.startIndex..<bytes.startIndex + room]))
            skipping = true
        } else {
            carry.append(contentsOf: bytes)
        }
    }

    /// Index of the first `\n` at or after `start`, using `memchr`.
    private static func find(_ chunk: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < chunk.count, let base = chunk.baseAddress else { return nil }
        guard let hit = memchr(base + start, Int32(UInt8(ascii: "\n")), chunk.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(hit))
    }
}
