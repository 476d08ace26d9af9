import CZlib

@testable import Tailship

/// One-shot gzip and gunzip for tests (the product compresses with a reusable
/// `GzipCompressor` and reads archives with `GzipFileReader`).
enum Gzip {
    /// Compresses `input` into one gzip member with a throwaway stream.
    static func gzip(_ input: [UInt8], level: Int = 6) throws(GzipError) -> [UInt8] {
        try GzipCompressor(level: level).compress(input)
    }

    /// Decompresses gzip data; concatenated members (as `cat a.gz b.gz` makes) are joined.
    /// Throws on corrupt or truncated input.
    static func gunzip(_ input: [UInt8]) throws(GzipError) -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        // windowBits 15 + 16: gzip wrapper only.
        let initRC = tailship_inflateInit2(stream, 31)
        guard initRC == Z_OK else { throw GzipError(code: initRC, message: "inflateInit2 failed") }
        defer { inflateEnd(stream) }

        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var failure: GzipError?
        input.withUnsafeBufferPointer { inBuf in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.pointee.avail_in = uInt(inBuf.count)
            var ended = false
            while true {
                let (rc, produced) = chunk.withUnsafeMutableBufferPointer { outBuf -> (Int32, Int) in
                    stream.pointee.next_out = outBuf.baseAddress
                    stream.pointee.avail_out = uInt(outBuf.count)
                    let rc = inflate(stream, Z_NO_FLUSH)
                    return (rc, outBuf.count - Int(stream.pointee.avail_out))
                }
                output.append(contentsOf: chunk[0..<produced])
                switch rc {
                case Z_STREAM_END:
                    ended = true
                    // Another member follows: start over on the remaining input.
                    if stream.pointee.avail_in > 0 {
                        let resetRC = inflateReset(stream)
                        if resetRC != Z_OK {
                            failure = GzipError(code: resetRC, message: "inflateReset failed")
                            return
                        }
                        ended = false
                        continue
                    }
                    return
                case Z_OK:
                    continue
                case Z_BUF_ERROR where produced > 0:
                    continue
                default:
                    if rc == Z_BUF_ERROR && !ended {
                        failure = GzipError(code: rc, message: "truncated gzip data")
                    } else {
                        let message = stream.pointee.msg.map { String(cString: $0) } ?? "corrupt gzip data"
                        failure = GzipError(code: rc, message: message)
                    }
                    return
                }
            }
        }
        if let failure { throw failure }
        return output
    }
}
