import CZlib

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a gzip file (or several concatenated members, as logrotate's `compress` and
/// `cat a.gz b.gz` make) as one stream of decompressed bytes, a buffer at a time, so a
/// backfill of a multi-gigabyte archive needs no more memory than a plain file.
public final class GzipFileReader {
    private let file: ReadableFile
    // zlib keeps a back pointer to the z_stream, so it must live at a stable address.
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    /// Offset in the compressed file of the next byte to hand to zlib.
    public private(set) var compressedOffset: UInt64 = 0
    private var finished = false

    /// True when `path` starts with the gzip magic bytes 1f 8b.
    static func isGzip(path: String) -> Bool {
        guard let file = try? ReadableFile(path: path) else { return false }
        let magic = UnsafeMutableRawBufferPointer.allocate(byteCount: 2, alignment: 1)
        defer { magic.deallocate() }
        guard (try? file.readFully(into: magic, at: 0)) == 2 else { return false }
        return magic[0] == 0x1f && magic[1] == 0x8b
    }

    /// Whether `path` is to be read as gzip: it starts with the gzip magic bytes. A file named
    /// `.gz` that does not is an error, not plain text: a half-written or mislabelled archive
    /// read as lines would send its compressed bytes as events.
    public static func detect(path: String) throws -> Bool {
        if isGzip(path: path) { return true }
        guard path.hasSuffix(".gz") else { return false }
        throw NotGzipError(path: path)
    }

    public init(path: String) throws {
        file = try ReadableFile(path: path)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: 256 * 1024, alignment: 16)
        // windowBits 15 + 16: gzip wrapper only.
        let rc = tailship_inflateInit2(stream, 31)
        guard rc == Z_OK else {
            stream.deallocate()
            input.deallocate()
            throw GzipError(code: rc, message: "inflateInit2 failed")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        input.deallocate()
    }

    /// Fills `buffer` with the next decompressed bytes; 0 at the end. Throws on corrupt or
    /// truncated data, naming what zlib said.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, let base = buffer.baseAddress else { return 0 }
        stream.pointee.next_out = base.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(buffer.count)
        while stream.pointee.avail_out > 0 {
            if stream.pointee.avail_in == 0 {
                let count = try file.read(into: input, at: compressedOffset)
                if count == 0 {
                    // End of file: fine between members, an error inside one.
                    if stream.pointee.total_in > 0 {
                        throw GzipError(code: Z_BUF_ERROR, message: "truncated gzip data at byte \(compressedOffset)")
                    }
                    finished = true
                    break
                }
                compressedOffset += UInt64(count)
                stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_in = uInt(count)
            }
            let rc = inflate(stream, Z_NO_FLUSH)
            switch rc {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                // Another member may follow; total_in == 0 marks "between members".
                let reset = inflateReset(stream)
                guard reset == Z_OK else { throw GzipError(code: reset, message: "inflateReset failed") }
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "corrupt gzip data"
                throw GzipError(code: rc, message: "\(message) near byte \(compressedOffset)")
            }
        }
        return buffer.count - Int(stream.pointee.avail_out)
    }
}

/// A file named `.gz` whose first bytes are not gzip's.
public struct NotGzipError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var description: String { "\(path): named .gz but is not gzip data (it does not start with 1f 8b)" }
}
