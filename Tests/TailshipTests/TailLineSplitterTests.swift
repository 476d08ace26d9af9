import Testing

@testable import Tailship

/// Feeds `input` to a splitter in chunks of `chunk` bytes and returns each line as
/// (offset, text, truncated), plus the last batch's end offset.
private func split(_ input: [UInt8], chunk: Int, max: Int = 1024, flush: Bool = false)
    -> (lines: [(UInt64, [UInt8], Bool)], end: UInt64, splitter: LineSplitter)
{
    var splitter = LineSplitter(startOffset: 0, maxLineBytes: max)
    var lines: [(UInt64, [UInt8], Bool)] = []
    var end: UInt64 = 0
    let collect: (LineBatch) -> Void = { batch in
        for line in batch { lines.append((line.offset, Array(line.bytes), line.truncated)) }
        end = batch.endOffset
    }
    var start = 0
    while start < input.count {
        let stop = Swift.min(start + chunk, input.count)
        input[start..<stop].withUnsafeBytes { splitter.feed($0, collect) }
        start = stop
    }
    if flush { splitter.flush(collect) }
    return (lines, end, splitter)
}

private func text(_ lines: [(UInt64, [UInt8], Bool)]) -> [String] {
    lines.map { String(decoding: $0.1, as: UTF8.self) }
}

struct TailLineSplitterTests {
    @Test(arguments: [1, 2, 3, 5, 7, 64, 4096])
    func splitsLinesAcrossAnyChunking(chunk: Int) {
        let input = Array("alpha\r\nbeta\n\ngamma\r\n\r\ndelta".utf8)
        let result = split(input, chunk: chunk)
        #expect(text(result.lines) == ["alpha", "beta", "", "gamma", ""])
        #expect(result.lines.map(\.0) == [0, 7, 12, 13, 20])
        #expect(result.end == 22)
        #expect(result.splitter.lineStartOffset == 22)
        #expect(result.splitter.pendingByteCount == 5)  // "delta" waits for its newline
    }

    @Test func flushEmitsTheUnterminatedLastLine() {
        let result = split(Array("a\nlast\r".utf8), chunk: 3, flush: true)
        #expect(text(result.lines) == ["a", "last"])
        #expect(result.lines[1].0 == 2)
        #expect(result.end == 7)
    }

    @Test func onlyOneTrailingCarriageReturnIsRemoved() {
        let result = split(Array("x\r\r\n\ry\n".utf8), chunk: 2)
        #expect(result.lines.map(\.1) == [Array("x\r".utf8), Array("\ry".utf8)])
    }

    @Test(arguments: [1, 4, 10, 100])
    func bytesPassThroughUntouched(chunk: Int) {
        let weird: [UInt8] = [0x00, 0xff, 0xfe, 0xc3, 0x28, 0x00]
        let input = weird + [0x0a] + Array("é\n".utf8)
        let result = split(input, chunk: chunk)
        #expect(result.lines.map(\.1) == [weird, Array("é".utf8)])
    }

    @Test(arguments: [1, 3, 8, 16, 1000])
    func longLinesAreCutAndCounted(chunk: Int) {
        let long = String(repeating: "x", count: 40)
        let input = Array("ok\n\(long)\nabcdefgh\nabcdefghi\r\nnext\n".utf8)
        let result = split(input, chunk: chunk, max: 8)
        #expect(text(result.lines) == ["ok", "xxxxxxxx", "abcdefgh", "abcdefgh", "next"])
        #expect(result.lines.map(\.2) == [false, true, false, true, false])
        #expect(result.lines.map(\.0) == [0, 3, 44, 53, 64])
        #expect(result.splitter.truncatedLines == 2)
        #expect(result.end == UInt64(input.count))
        #expect(result.splitter.pendingByteCount == 0)
    }

    @Test func aLineOfExactlyMaxWithCarriageReturnIsNotTruncated() {
        let result = split(Array("abcd\r\n".utf8), chunk: 1, max: 4)
        #expect(text(result.lines) == ["abcd"])
        #expect(result.lines[0].2 == false)
    }

    @Test func unterminatedHugeLineKeepsBoundedMemory() {
        let input = [UInt8](repeating: 0x41, count: 10_000)
        let result = split(input, chunk: 100, max: 16)
        #expect(result.lines.isEmpty)
        #expect(result.splitter.pendingByteCount <= 17)
        #expect(result.splitter.lineStartOffset == 0)
        #expect(result.splitter.nextOffset == 10_000)
    }

    @Test func resetRestartsAtTheGivenOffset() {
        var splitter = LineSplitter(startOffset: 100, maxLineBytes: 64)
        var offsets: [UInt64] = []
        Array("part".utf8).withUnsafeBytes { splitter.feed($0) { _ in } }
        splitter.reset(to: 0)
        Array("a\nb\n".utf8).withUnsafeBytes {
            splitter.feed($0) { batch in for line in batch { offsets.append(line.offset) } }
        }
        #expect(offsets == [0, 2])
    }
}

extension TailLineSplitterTests {
    /// After a chunk that ends on `\n`, nothing is pending: the line start is the next offset.
    @Test func lineStartFollowsAChunkEndingOnANewline() {
        var splitter = LineSplitter(startOffset: 10, maxLineBytes: 100)
        Array("a\nb\n".utf8).withUnsafeBytes { splitter.feed($0) { _ in } }
        #expect(splitter.lineStartOffset == 14 && splitter.nextOffset == 14)
        Array("c".utf8).withUnsafeBytes { splitter.feed($0) { _ in } }
        #expect(splitter.lineStartOffset == 14 && splitter.nextOffset == 15)
    }
}
