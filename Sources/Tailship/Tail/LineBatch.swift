/// One complete line: its bytes without the `\n` (and without a trailing `\r`), and the file
/// offset of its first byte. The bytes point into a read buffer and are valid only during the
/// call that received them: copy what must outlive it.
public struct Line {
    /// Byte offset of the line's first byte in its file.
    public var offset: UInt64
    public var bytes: UnsafeRawBufferPointer
    /// The line was longer than `maxLineBytes`; `bytes` holds only its first `maxLineBytes`.
    public var truncated: Bool
    /// The line's content basis, the input of its default `$insert_id` (see `InsertID`): the
    /// FNV-1a-64 hash of the file's first min(`end`, 1 KiB) bytes, where `end` is the offset just
    /// past the line's terminator (where the next line starts). A line in the first KiB is thus
    /// told apart by its own bytes and everything before it; a later one by the file's first KiB
    /// (and, in the id, by its offset).
    public var basis: UInt64

    public init(offset: UInt64, bytes: UnsafeRawBufferPointer, truncated: Bool = false, basis: UInt64) {
        self.offset = offset
        self.bytes = bytes
        self.truncated = truncated
        self.basis = basis
    }
}

/// The lines produced by one chunk of a file (or, for a multiline source, the records they
/// completed: see `RecordAssembler`), handed to a sink in one call. Valid only during
/// that call (its lines point into the reader's buffers); no allocation per line.
public struct LineBatch: RandomAccessCollection {
    /// Where a line's bytes are: in the splitter's carry (a line started in an earlier chunk)
    /// or in the chunk just fed.
    struct Entry {
        var inCarry: Bool
        var start: Int
        var count: Int
        var offset: UInt64
        var truncated: Bool
        /// The offset just past the line's `\n` (for a record: past its first line's), the end of
        /// the bytes its `basis` covers.
        var end: UInt64
    }

    let carry: UnsafeRawBufferPointer
    let chunk: UnsafeRawBufferPointer
    let entries: UnsafeBufferPointer<Entry>
    /// The offset just past the last line's `\n`: where reading resumes after these lines.
    public let endOffset: UInt64
    /// The file's first bytes as far as read (at most 1 KiB), and their hash once complete.
    let head: UnsafeRawBufferPointer
    let fullHeadHash: UInt64?

    /// Number of lines.
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// The `index`-th line, in file order.
    public subscript(index: Int) -> Line {
        let entry = entries[index]
        let base = entry.inCarry ? carry : chunk
        let bytes = UnsafeRawBufferPointer(rebasing: base[entry.start..<entry.start + entry.count])
        return Line(offset: entry.offset, bytes: bytes, truncated: entry.truncated, basis: basis(end: entry.end))
    }

    /// FNV-1a-64 of the file's bytes [0, min(`end`, 1 KiB)) (see `Line.basis`).
    func basis(end: UInt64) -> UInt64 {
        if end >= UInt64(LineSplitter.headCapacity), let fullHeadHash { return fullHeadHash }
        let length = Int(Swift.min(end, UInt64(head.count)))
        return FNV64.hash(UnsafeRawBufferPointer(rebasing: head[0..<length]))
    }

    /// Always 0: lines are indexed in file order.
    public var startIndex: Int { 0 }
    /// One past the last line.
    public var endIndex: Int { entries.count }
}
