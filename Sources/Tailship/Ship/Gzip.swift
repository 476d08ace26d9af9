import CDeflate
import CZlib

/// A compression failure, with zlib's return code (or the nearest one, for libdeflate) and
/// message.
public struct GzipError: Error, Sendable, CustomStringConvertible {
    /// zlib's return code (`Z_DATA_ERROR`, `Z_MEM_ERROR`, ...).
    public var code: Int32
    public var message: String

    public var description: String { "gzip: \(message) (zlib \(code))" }
}

/// Compresses request bodies into gzip members, whole, with libdeflate.
///
/// A body is always in memory whole, so libdeflate's whole-buffer compressor fits: on event
/// NDJSON it measured 1.6 times zlib's speed at level 1 with a better ratio (docs/benchmarks.md,
/// "Compression"). One compressor (its state, allocated once) is reused for every body. Not
/// thread-safe: each thread that compresses owns one.
public final class GzipCompressor {
    private let compressor: OpaquePointer
    /// Where libdeflate writes; grown to the largest room asked for, never shrunk, so a body sent
    /// (and kept for retries) holds its own size, not the room it was compressed in.
    private var scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    /// The last body did not fit into half its size: the next goes straight into the bound.
    private var intoBound = false
    /// The compression level, 1 (fastest) to 9 (smallest).
    public let level: Int

    /// Creates a compressor; `level` is clamped to 1...9.
    public init(level: Int = 1) throws(GzipError) {
        self.level = min(max(level, 1), 9)
        guard let compressor = libdeflate_alloc_compressor(Int32(self.level)) else {
            throw GzipError(code: Z_MEM_ERROR, message: "libdeflate_alloc_compressor failed")
        }
        self.compressor = compressor
    }

    deinit {
        libdeflate_free_compressor(compressor)
        scratch.deallocate()
    }

    /// Returns `input` as one complete gzip member.
    public func compress(_ input: [UInt8]) throws(GzipError) -> [UInt8] {
        var output = [UInt8]()
        try compress(input, into: &output)
        return output
    }

    /// Replaces `output` with `input` compressed as one gzip member, in an array of its own size.
    public func compress(_ input: [UInt8], into output: inout [UInt8]) throws(GzipError) {
        // Most bodies (event JSON) shrink to a fifth or less: compressing into half of them
        // keeps the scratch buffer at half a body. A body that does not shrink that much is
        // compressed again into the bound, which always fits, and the bodies after it go
        // straight there until one shrinks well again (no second pass for every such body).
        let bound = libdeflate_gzip_compress_bound(compressor, input.count)
        let half = min(input.count / 2 + 1024, bound)
        var produced = deflate(input, room: intoBound ? bound : half)
        if produced == 0 && !intoBound && half < bound {
            produced = deflate(input, room: bound)
            intoBound = produced > 0
        } else if intoBound && produced > 0 && produced < half * 4 / 5 {
            intoBound = false
        }
        // Only an output buffer below the bound can make it fail.
        guard produced > 0 else {
            output = []
            throw GzipError(code: Z_BUF_ERROR, message: "libdeflate_gzip_compress found no room")
        }
        output = Array(UnsafeRawBufferPointer(rebasing: scratch[0..<produced]))
    }

    /// Compresses `input` into the scratch buffer, grown to `room`; 0 if it did not fit.
    private func deflate(_ input: [UInt8], room: Int) -> Int {
        if scratch.count < room {
            scratch.deallocate()
            scratch = .allocate(byteCount: room, alignment: 16)
        }
        return input.withUnsafeBytes { inBuf in
            libdeflate_gzip_compress(compressor, inBuf.baseAddress, inBuf.count, scratch.baseAddress, room)
        }
    }

    /// Inflates `member`, a gzip member of exactly `size` bytes uncompressed (a body this
    /// process compressed and set aside); nil if it is not that.
    public static func inflate(_ member: [UInt8], size: Int) -> [UInt8]? {
        guard let decompressor = libdeflate_alloc_decompressor() else { return nil }
        defer { libdeflate_free_decompressor(decompressor) }
        var ok = false
        let out = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var produced = 0
            let result = member.withUnsafeBytes { inBuf in
                libdeflate_gzip_decompress(
                    decompressor, inBuf.baseAddress, inBuf.count, buffer.baseAddress, size, &produced)
            }
            ok = result == LIBDEFLATE_SUCCESS && produced == size
            count = ok ? size : 0
        }
        return ok ? out : nil
    }
}
