import Foundation
import Testing

@testable import Tailship

/// Copy recognition (copytruncate with a glob matching the copy): the pure matching rule, and the
/// tailer reading a copy from where its original stopped.
@Suite(.serialized)
struct TailCopyRecognizerTests {
    static func hash(_ bytes: ArraySlice<UInt8>) -> UInt64 { Array(bytes).withUnsafeBytes { FNV64.hash($0) } }

    /// A mark as the tailer records it after reading `content[0..<readEnd]`.
    static func mark(of content: [UInt8], readEnd: Int, lineStart: Int? = nil) -> ReadMark {
        let head = min(content.count, FileIdentity.maxFingerprintBytes)
        let tail = min(readEnd, TailWindow.capacity)
        return ReadMark(
            fingerprint: hash(content[0..<head]), fingerprintLength: head, lineStart: UInt64(lineStart ?? readEnd),
            readEnd: UInt64(readEnd), tailHash: hash(content[(readEnd - tail)..<readEnd]), tailLength: tail)
    }

    static func reader(_ bytes: [UInt8]) -> (UInt64, Int) -> [UInt8]? {
        { offset, length in
            let start = Int(offset)
            return start + length <= bytes.count ? Array(bytes[start..<start + length]) : nil
        }
    }

    static let header = Array(String(repeating: "# the same header line for every file here\n", count: 40).utf8)

    @Test func aCopyWithMoreBytesMatchesAtItsOffset() {
        let original = Self.header + Array("line 1\nline 2\npartial".utf8)
        var recognizer = CopyRecognizer()
        let now = ContinuousClock.now
        recognizer.remember(Self.mark(of: original, readEnd: original.count, lineStart: original.count - 7), now: now)
        let copy = original + Array(" line\nline 3\n".utf8)
        let found = recognizer.match(size: UInt64(copy.count), now: now, read: Self.reader(copy))
        #expect(found?.lineStart == UInt64(original.count - 7))
    }

    @Test func filesThatOnlyBeginAlikeDoNotMatch() {
        let original = Self.header + Array("a 1\na 2\na 3\n".utf8)
        var recognizer = CopyRecognizer()
        let now = ContinuousClock.now
        recognizer.remember(Self.mark(of: original, readEnd: original.count), now: now)
        let other = Self.header + Array("b 1\nb 2\nb 3\nb 4\n".utf8)
        #expect(recognizer.match(size: UInt64(other.count), now: now, read: Self.reader(other)) == nil)
        let shorter = Array(original.dropLast(3))
        #expect(recognizer.match(size: UInt64(shorter.count), now: now, read: Self.reader(shorter)) == nil)
    }

    @Test func shortFilesUseAShortTailCheck() {
        let original = Array("x\n".utf8)
        var recognizer = CopyRecognizer()
        let now = ContinuousClock.now
        recognizer.remember(Self.mark(of: original, readEnd: 2), now: now)
        let copy = Array("x\ny\n".utf8)
        #expect(recognizer.match(size: 4, now: now, read: Self.reader(copy))?.readEnd == 2)
        let different = Array("z\ny\n".utf8)
        #expect(recognizer.match(size: 4, now: now, read: Self.reader(different)) == nil)
    }

    @Test func marksExpireAndAreBounded() {
        let original = Self.header + Array("a\n".utf8)
        var recognizer = CopyRecognizer()
        recognizer.lifetime = .seconds(10)
        let then = ContinuousClock.now
        recognizer.remember(Self.mark(of: original, readEnd: original.count), now: then)
        let later = then + .seconds(11)
        #expect(recognizer.match(size: UInt64(original.count), now: later, read: Self.reader(original)) == nil)
        for index in 0..<100 {
            recognizer.remember(Self.mark(of: Array("file \(index)\n".utf8), readEnd: 4), now: later)
        }
        #expect(recognizer.count == recognizer.capacity)
    }

    @Test func tailWindowKeepsTheLastBytes() {
        var window = TailWindow()
        let big = [UInt8](repeating: 7, count: 100) + Array("0123456789".utf8)
        big.withUnsafeBytes { window.append($0) }
        #expect(window.bytes.count == TailWindow.capacity && Array(window.bytes.suffix(10)) == Array("0123456789".utf8))
        Array("abc".utf8).withUnsafeBytes { window.append($0) }
        #expect(window.bytes.count == TailWindow.capacity && Array(window.bytes.suffix(5)) == Array("89abc".utf8))
    }

    /// copytruncate done by hand while the tailer watches `*.log*`: the copy is not read again,
    /// and the lines it holds beyond what was read (appended after the last read) are read from it.
    @Test func tailerStartsACopyWhereItsOriginalStopped() throws {
        let dir = try TailTempDir()
        dir.write("app.log", (0..<50).map { "line \($0)\n" }.joined())
        let sink = CollectingSink()
        let tailer = Tailer(
            sources: [TailSource(name: "app", paths: [dir.root + "/*.log*"], startAt: .beginning)], sink: sink,
            options: TailTailerTests.fastOptions, logger: TailTailerTests.quietLogger)
        try tailer.start()
        defer { tailer.stop() }
        #expect(eventually { sink.texts.count == 50 })
        // Copy, then truncate at once (the tailer cannot read the unread tail in between).
        let unread = (50..<60).map { "line \($0)\n" }.joined()
        dir.append("app.log", unread)
        try FileManager.default.copyItem(atPath: dir.path("app.log"), toPath: dir.path("app.log.1"))
        truncate(dir.path("app.log"), 0)
        dir.append("app.log", "after 0\n")
        let expected = (0..<60).map { "line \($0)" } + ["after 0"]
        #expect(eventually { Set(sink.texts).isSuperset(of: expected) })
        usleep(300_000)
        #expect(sink.texts.sorted() == expected.sorted())
    }

    /// A file that appears with the same first bytes as a file already read, but other lines,
    /// is read in full — once the copy wait has passed (it could have been a copytruncate copy
    /// whose original's truncation was not seen yet).
    @Test func aLookAlikeNewFileIsReadInFull() throws {
        let dir = try TailTempDir()
        let header = String(decoding: Self.header, as: UTF8.self)
        dir.write("a.log", header + "a 1\na 2\n")
        let sink = CollectingSink()
        let tailer = Tailer(
            sources: [TailSource(name: "app", paths: [dir.root + "/*.log"], startAt: .beginning)], sink: sink,
            options: TailTailerTests.fastOptions, logger: TailTailerTests.quietLogger)
        try tailer.start()
        defer { tailer.stop() }
        #expect(eventually { sink.texts.contains("a 2") })
        dir.write("b.log", header + "b 1\nb 2\nb 3\n")
        // Not read before the wait: it might still turn out to be a copy.
        usleep(1_000_000)
        #expect(!sink.texts.contains("b 1"))
        #expect(eventually(8) { sink.texts.contains("b 3") })
        #expect(sink.texts.filter { $0.hasPrefix("#") }.count == 80)
    }
}
