/// One complete line: its bytes without the `\n` (and without a trailing `\r`), and the file
/// offset of its first byte. The bytes point into a read buffer and are valid only during the
/// call that received them: copy what must outlive it.
public struct Line {
    /// Byte offset of the line's first byte in its file.
    public var offset: UInt64
    public var bytes: UnsafeRawBufferPointer
    /// The line was longer than `maxLineBytes`; `bytes` holds only its first `maxLineBytes`.
    public var truncated: Bool
}

/// The lines produced by one chunk of a file, handed to a sink in one call. Valid only during
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
    }

    let carry: UnsafeRawBufferPointer
    let chunk: UnsafeRawBufferPointer
    let entries: UnsafeBufferPointer<Entry>
    /// The offset just past the last line's `\n`: where reading resumes after these lines.
    public let endOffset: UInt64

    /// Number of lines.
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// The `index`-th line, in file order.
    public subscript(index: Int) -> Line {
        let entry = entries[index]
        let base = entry.inCarry ? carry : chunk
        let bytes = UnsafeRawBufferPointer(rebasing: base[entry.start..<entry.start + entry.count])
        return Line(offset: entry.offset, bytes: bytes, truncated: entry.truncated)
    }

    /// Always 0: lines are indexed in file order.
    public var startIndex: Int { 0 }
    /// One past the last line.
    public var endIndex: Int { entries.count }
}
