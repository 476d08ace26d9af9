import CZlib

/// A zlib failure, with zlib's return code and message.
public struct GzipError: Error, Sendable, CustomStringConvertible {
    /// zlib's return code (`Z_DATA_ERROR`, `Z_MEM_ERROR`, ...).
    public var code: Int32
    public var message: String

    public var description: String { "gzip: \(message) (zlib \(code))" }
}

/// Compresses request bodies into gzip members with one reusable deflate stream.
///
/// The stream is initialised once (`deflateInit2`, windowBits 31 = zlib with a gzip
/// header) and `deflateReset` between bodies, so the ~256 KiB of zlib state is not
/// reallocated per request. Not thread-safe: each delivery thread owns one.
public final class GzipCompressor {
    // zlib keeps a back pointer to the z_stream, so it must live at a stable address.
    private let stream: UnsafeMutablePointer<z_stream>
    /// Where deflate writes; grown to the largest `deflateBound` seen, never shrunk.
    private var scratch = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    /// The compression level, 1 (fastest) to 9 (smallest).
    public let level: Int

    /// Creates a compressor; `level` is clamped to 1...9.
    public init(level: Int = 1) throws(GzipError) {
        self.level = min(max(level, 1), 9)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = tailship_deflateInit2(stream, Int32(self.level), Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY)
        guard rc == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw GzipError(code: rc, message: "deflateInit2 failed")
        }
    }

    deinit {
        deflateEnd(stream)
        scratch.deallocate()
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Returns `input` as one complete gzip member.
    public func compress(_ input: [UInt8]) throws(GzipError) -> [UInt8] {
        var output = [UInt8]()
        try compress(input, into: &output)
        return output
    }

    /// Replaces `output` with `input` compressed as one gzip member, in an array of exactly
    /// its size. deflate writes into the compressor's own scratch buffer (`deflateBound` bytes,
    /// of which only what deflate writes is ever touched) and the result is copied out: a body
    /// in flight then holds its compressed size (about a sixth of a batch of events at level 1),
    /// not a zero-filled array as large as the uncompressed batch.
    public func compress(_ input: [UInt8], into output: inout [UInt8]) throws(GzipError) {
        let resetRC = deflateReset(stream)
        guard resetRC == Z_OK else { throw GzipError(code: resetRC, message: "deflateReset failed") }
        // deflateBound is enough for a single Z_FINISH call; the gzip wrapper adds 18 bytes.
        let bound = Int(deflateBound(stream, uLong(input.count))) + 32
        if scratch.count < bound {
            scratch.deallocate()
            scratch = .allocate(capacity: bound)
        }
        var rc: Int32 = Z_OK
        input.withUnsafeBufferPointer { inBuf in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.pointee.avail_in = uInt(inBuf.count)
            stream.pointee.next_out = scratch.baseAddress
            stream.pointee.avail_out = uInt(bound)
            rc = deflate(stream, Z_FINISH)
            stream.pointee.next_in = nil
            stream.pointee.next_out = nil
        }
        guard rc == Z_STREAM_END else {
            output = []
            throw GzipError(code: rc, message: "deflate did not finish")
        }
        output = Array(scratch[..<(bound - Int(stream.pointee.avail_out))])
    }
}
