import Foundation
import Testing

@testable import Tailship

/// `tailship status` rows: size, bytes behind and state for each checkpointed file.
struct TailStatusReportTests {
    static let now: Int64 = 1_800_000_000_000

    static func checkpoint(_ dir: TailTempDir, _ name: String, offset: UInt64, ageMs: Int64) throws -> Checkpoint {
        let file = try ReadableFile(path: dir.path(name))
        let identity = try FileIdentity.compute(for: file)
        return Checkpoint(
            identity: identity, path: dir.path(name), source: "app", offset: offset, updatedMs: now - ageMs)
    }

    @Test func rowsShowBehindStalledGoneAndRenamedFiles() throws {
        let dir = try TailTempDir()
        let state = try TailTempDir()
        dir.write("done.log", "a\nb\n")
        dir.write("busy.log", "a\nb\nc\n")
        dir.write("stuck.log", "x\ny\nz\n")
        dir.write("moved.log", "m\n")
        dir.write("deleted.log", "d\n")
        var store = try CheckpointStore(directory: state.root)
        store.update(try Self.checkpoint(dir, "done.log", offset: 4, ageMs: 3_600_000))
        store.update(try Self.checkpoint(dir, "busy.log", offset: 2, ageMs: 1_000))
        store.update(try Self.checkpoint(dir, "stuck.log", offset: 2, ageMs: 600_000))
        store.update(try Self.checkpoint(dir, "moved.log", offset: 2, ageMs: 1_000))
        store.update(try Self.checkpoint(dir, "deleted.log", offset: 2, ageMs: 1_000))
        try store.save()
        try dir.rename("moved.log", "moved.log.1")
        try FileManager.default.removeItem(atPath: dir.path("deleted.log"))

        let report = try StatusReport(
            stateDir: state.root, sources: [TailSource(name: "app", paths: [dir.root + "/*.log*"])], nowMs: Self.now)
        let byName = Dictionary(uniqueKeysWithValues: report.rows.map { (($0.path as NSString).lastPathComponent, $0) })
        #expect(byName["done.log"]?.state == .ok && byName["done.log"]?.behind == 0)
        #expect(byName["busy.log"]?.state == .behind && byName["busy.log"]?.behind == 4)
        #expect(byName["stuck.log"]?.state == .stalled && byName["stuck.log"]?.behind == 4)
        #expect(byName["moved.log.1"]?.state == .ok && byName["moved.log.1"]?.size == 2)
        #expect(byName["deleted.log"]?.state == .gone && byName["deleted.log"]?.size == nil)

        let table = report.table().split(separator: "\n")
        #expect(
            table.first?.split(separator: " ") == ["PATH", "IDENTITY", "OFFSET", "SIZE", "BEHIND", "UPDATED", "STATE"])
        #expect(table.contains { $0.hasPrefix(dir.path("stuck.log")) && $0.hasSuffix("stalled") })
        #expect(table.contains { $0.hasPrefix(dir.path("deleted.log")) && $0.hasSuffix("gone") })
    }

    /// A file name holding a newline or ESC is listed escaped: one row per file, and nothing
    /// reaches the terminal as an escape sequence (docs/security.md).
    @Test func aPathWithControlCharactersIsListedEscaped() throws {
        let dir = try TailTempDir()
        let state = try TailTempDir()
        let name = "evil\n\u{1B}[2Jx.log"
        dir.write(name, "a\n")
        var store = try CheckpointStore(directory: state.root)
        store.update(try Self.checkpoint(dir, name, offset: 2, ageMs: 1_000))
        try store.save()
        let report = try StatusReport(
            stateDir: state.root, sources: [TailSource(name: "app", paths: [dir.root + "/*.log"])], nowMs: Self.now)
        let table = report.table()
        #expect(table.split(separator: "\n").count == 2, "\(table)")
        #expect(table.contains(dir.root + "/evil\\n\\u001b[2Jx.log "))
        #expect(!table.unicodeScalars.contains { $0 != "\n" && SafeText.isControl($0) })
    }

    @Test(arguments: [
        (UInt64(10), UInt64?.some(10), Int64(0), StatusReport.State.ok),
        (10, 20, 1_000, .behind),
        (10, 20, 400_000, .stalled),
        (10, nil, 0, .gone),
    ])
    func stateRule(offset: UInt64, size: UInt64?, ageMs: Int64, expected: StatusReport.State) {
        let state = StatusReport.state(
            offset: offset, size: size, updatedMs: Self.now - ageMs, nowMs: Self.now,
            stallAfterMs: StatusReport.defaultStallAfterMs)
        #expect(state == expected)
    }
}
