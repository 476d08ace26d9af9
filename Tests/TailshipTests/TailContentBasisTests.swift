import Foundation
import Testing

@testable import Tailship

/// The content basis of each line (the input of its default `$insert_id`) is a function of the
/// file's bytes alone: however they are chunked, wherever reading resumes, whether they come
/// from a file, a gzip stream or a pipe.
struct TailContentBasisTests {
    /// 40 numbered lines, 1,390 bytes: the last ones lie past the first KiB.
    static let content = Array(
        (0..<40).map { "\(1_793_491_200_000 + $0) order seq=\($0) user=u\($0 % 5)\n" }.joined().utf8)

    /// Line offsets and bases read by feeding `content` in `chunk`-byte pieces from `from` on.
    static func bases(chunk: Int, from start: Int = 0, primed: Bool = true) -> [(UInt64, UInt64)] {
        var splitter = LineSplitter(startOffset: UInt64(start), maxLineBytes: 4096)
        if primed { splitter.prime(head: Array(content[0..<min(start, LineSplitter.headCapacity)])) }
        var out: [(UInt64, UInt64)] = []
        var position = start
        while position < content.count {
            let stop = min(position + chunk, content.count)
            content[position..<stop].withUnsafeBytes { bytes in
                splitter.feed(bytes) { batch in for line in batch { out.append((line.offset, line.basis)) } }
            }
            position = stop
        }
        return out
    }

    @Test func basesArePinnedAndIndependentOfChunking() {
        let whole = Self.bases(chunk: 1 << 20)
        #expect(whole.count == 40)
        // Written out (FNV-1a-64 by an independent implementation): line 0 over its own 34 bytes,
        // line 1 over 68, and every line ending past 1 KiB over the first 1024 bytes.
        #expect(whole[0] == (0, 0x8825_2430_0dce_0adc))
        #expect(whole[1].1 == 0x8fa2_136d_58e9_3564)
        let firstKiB = FNV64.hash(Self.content[0..<1024])
        #expect(whole.filter { $0.0 >= 1024 }.allSatisfy { $0.1 == firstKiB })
        // Lines 0...28 end within the first KiB (each its own basis); line 29 straddles it.
        #expect(Set(whole.map(\.1)).count == 30)
        for chunk in [1, 7, 33, 100, 1000] {
            #expect(Self.bases(chunk: chunk).elementsEqual(whole) { $0 == $1 }, "chunks of \(chunk)")
        }
    }

    /// Resuming at a checkpoint (the head primed from the file) gives the lines after it the
    /// bases a read from 0 gave them.
    @Test(arguments: [34, 68, 515, 1005, 1040, 1355])  // line starts: 1, 2, 15, 29 (across 1 KiB), 30, 39
    func resumingAtAnOffsetGivesTheSameBases(offset: Int) {
        let whole = Self.bases(chunk: 64)
        let resumed = Self.bases(chunk: 64, from: offset)
        #expect(resumed.elementsEqual(whole.filter { $0.0 >= UInt64(offset) }) { $0 == $1 })
    }

    /// A gzip stream resumed at an offset (line 15) decompresses from its start and skips up to there:
    /// the skipped bytes still fill the head.
    @Test func aResumedGzipStreamGivesTheSameBases() throws {
        let dir = try TailTempDir()
        let path = dir.write("a.log", String(decoding: Self.content, as: UTF8.self))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = [path]
        try gzip.run()
        gzip.waitUntilExit()
        var bytes = GzipBytes(try GzipFileReader(path: path + ".gz"))
        var splitter = LineSplitter(startOffset: 515, maxLineBytes: 4096)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 100, alignment: 16)
        defer { buffer.deallocate() }
        var out: [(UInt64, UInt64)] = []
        _ = try splitter.read(from: &bytes, buffer: buffer) { batch in
            for line in batch { out.append((line.offset, line.basis)) }
        }
        #expect(out.elementsEqual(Self.bases(chunk: 100).filter { $0.0 >= 515 }) { $0 == $1 })
    }
}
