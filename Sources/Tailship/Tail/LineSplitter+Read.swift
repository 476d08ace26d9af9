#if canImport(Glibc)
    import Glibc
#endif

/// Where `LineSplitter.read` gets bytes: a file read at explicit offsets (`run`, and `test` and
/// `import` of plain files), a gzip stream (`import` of `.gz`), or standard input (`test`).
public protocol ByteSource {
    associatedtype Failure: Error
    /// Up to `buffer.count` bytes, and the offset of the first of them: a seekable source reads
    /// at `offset` (the first byte not framed yet); a stream reads on from where it is, which
    /// may be before `offset` (a resumed `import` of a `.gz`: the reader skips up to it).
    /// A count of 0 is the end, for now.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(Failure) -> (
        start: UInt64, count: Int
    )
}

/// A file read with `pread` at the offset asked for.
public struct FileBytes: ByteSource {
    public let file: ReadableFile

    public init(_ file: ReadableFile) {
        self.file = file
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(SyscallError) -> (
        start: UInt64, count: Int
    ) {
        (offset, try file.read(into: buffer, at: offset))
    }
}

/// A descriptor read sequentially (standard input: a pipe or a terminal, never seekable).
public struct DescriptorBytes: ByteSource {
    public let descriptor: Int32
    private var position: UInt64 = 0

    public init(_ descriptor: Int32) {
        self.descriptor = descriptor
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(SyscallError)
        -> (start: UInt64, count: Int)
    {
        let fd = descriptor
        let count = try syscallRetrying("read", path: "standard input") {
            Glibc.read(fd, buffer.baseAddress, buffer.count)
        }
        defer { position += UInt64(count) }
        return (position, count)
    }
}

/// A gzip file's decompressed stream.
public struct GzipBytes: ByteSource {
    public let reader: GzipFileReader
    private var position: UInt64 = 0

    public init(_ reader: GzipFileReader) {
        self.reader = reader
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> (
        start: UInt64, count: Int
    ) {
        let count = try reader.read(into: buffer)
        defer { position += UInt64(count) }
        return (position, count)
    }
}

extension LineSplitter {
    /// What one `read` call ended on.
    public enum ReadEnd: Sendable, Equatable {
        /// The source had nothing more, for now.
        case atEnd
        /// Stopped after `budget` chunks, or because `proceed` said so, with more to read.
        case more
    }

    /// The one "read a chunk, frame its lines" loop of `run`, `test` and `import`: reads `source`
    /// from `nextOffset` into `buffer`, at most `budget` chunks, handing each chunk's complete
    /// lines to `deliver` (and the raw chunk to `onChunk` first); stops early once `proceed`
    /// says so. The head and so every line's `basis` come from the bytes read, whoever reads.
    public mutating func read<Source: ByteSource>(
        from source: inout Source, buffer: UnsafeMutableRawBufferPointer, budget: Int = .max,
        proceed: () -> Bool = { true }, onChunk: (UnsafeRawBufferPointer) -> Void = { _ in },
        deliver: (LineBatch) -> Void
    ) throws(Source.Failure) -> ReadEnd {
        var chunks = 0
        while chunks < budget {
            let (start, count) = try source.read(into: buffer, at: nextOffset)
            if count == 0 { return .atEnd }
            var chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            if start < nextOffset {
                // A stream behind the resume point: its bytes up to there only fill the head.
                let skip = Int(min(UInt64(count), nextOffset - start))
                observe(UnsafeRawBufferPointer(rebasing: chunk[0..<skip]), at: start)
                guard skip < count else { continue }
                chunk = UnsafeRawBufferPointer(rebasing: chunk[skip...])
            }
            chunks += 1
            onChunk(chunk)
            feed(chunk, deliver)
            if !proceed() { return .more }
        }
        return .more
    }
}
