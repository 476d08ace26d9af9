import Foundation
import Synchronization
import Testing

@testable import Tailship

/// A temporary directory removed when the value is released.
final class TailTempDir {
    let root: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        root = base + "/tailship-tail-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    func path(_ name: String) -> String { root + "/" + name }

    /// Creates or replaces the file (new inode only when it did not exist).
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let path = path(name)
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    /// Appends through a fresh descriptor, as a logger opening in append mode would.
    func append(_ name: String, _ text: String) {
        let handle = FileHandle(forWritingAtPath: path(name))!
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        handle.closeFile()
    }

    func rename(_ from: String, _ to: String) throws {
        try FileManager.default.moveItem(atPath: path(from), toPath: path(to))
    }
}

/// What a collecting sink saw.
enum SinkRecord: Equatable {
    case opened(file: Int, path: String, offset: UInt64)
    case moved(file: Int, path: String)
    case closed(file: Int, reason: FileCloseReason)
}

/// A sink that copies every line (file id, offset, text) under a mutex.
final class CollectingSink: LineSink {
    struct Seen: Sendable {
        var lines: [(file: Int, offset: UInt64, text: String)] = []
        var records: [SinkRecord] = []
        var paths: [Int: String] = [:]
        var identities: [Int: FileIdentity] = [:]
        var openings: [Int: FileOpening] = [:]
        var endOffsets: [Int: UInt64] = [:]
        var bases: [Int: [UInt64]] = [:]
    }

    let seen = Mutex(Seen())

    func fileOpened(_ opening: FileOpening) {
        seen.withLock {
            $0.records.append(.opened(file: opening.file, path: opening.path, offset: opening.offset))
            $0.paths[opening.file] = opening.path
            $0.identities[opening.file] = opening.identity
            $0.openings[opening.file] = opening
        }
    }

    func identityChanged(file: Int, identity: FileIdentity) {
        seen.withLock { $0.identities[file] = identity }
    }

    func skipped(file: Int, to offset: UInt64, coveredBy original: Int) {
        seen.withLock { $0.endOffsets[file] = offset }
    }

    func lines(file: Int, _ batch: LineBatch) {
        var copied: [(Int, UInt64, String)] = []
        var bases: [UInt64] = []
        for line in batch {
            copied.append((file, line.offset, String(decoding: line.bytes, as: UTF8.self)))
            bases.append(line.basis)
        }
        seen.withLock {
            $0.lines.append(contentsOf: copied.map { (file: $0.0, offset: $0.1, text: $0.2) })
            $0.endOffsets[file] = batch.endOffset
            $0.bases[file, default: []].append(contentsOf: bases)
        }
    }

    func fileMoved(file: Int, path: String) {
        seen.withLock { $0.records.append(.moved(file: file, path: path)) }
    }

    func fileClosed(file: Int, reason: FileCloseReason) {
        seen.withLock { $0.records.append(.closed(file: file, reason: reason)) }
    }

    var texts: [String] { seen.withLock { $0.lines.map(\.text) } }
    var records: [SinkRecord] { seen.withLock { $0.records } }
}

/// Polls `condition` every 10 ms for up to `seconds`; true as soon as it holds.
func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

extension Checkpoint {
    /// A checkpoint as the tests build them: its key derived from the identity (so a test can
    /// look it up), first seen when last updated.
    init(identity: FileIdentity, path: String, source: String, offset: UInt64, updatedMs: Int64) {
        self.init(
            key: .forTest(identity), identity: identity, path: path, source: source, offset: offset, start: .beginning,
            firstSeenMs: updatedMs, updatedMs: updatedMs)
    }
}

extension FileKey {
    /// A key that is a function of `identity`, for tests that build checkpoints by hand.
    static func forTest(_ identity: FileIdentity) -> FileKey {
        FileKey(raw: identity.device &* 1_000_003 &+ identity.inode &* 7_919 &+ identity.fingerprint)
    }
}
