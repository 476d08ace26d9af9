import Foundation
import Testing

/// Rotation conformance, part one: Debian's real `logrotate` rotating a file that a writer
/// keeps appending to, with the built agent shipping to the local ingestion server. Every case
/// checks the exact set of events that arrived (see `RotationRig.assertExactly`).
@Suite(.serialized) struct RotationLogrotateTests {
    /// `create`: rename, new empty file; the writer appends to the renamed file until its HUP
    /// (`reopen`). Only `app.log` is matched, so the renamed file is drained through its
    /// descriptor and the new one read from 0.
    @Test func createWithOnlyTheLiveNameMatched() throws {
        let rig = try RotationRig("create")
        let writer = LineWriter(path: rig.path("app.log"))
        try rig.startAgent()
        for _ in 0..<3 {
            usleep(300_000)
            try rig.logrotate("rotate 5\ncreate")
            usleep(20_000)  // the writer keeps appending to the old file for a moment
            writer.reopen()
        }
        usleep(300_000)
        let count = writer.stop()
        try rig.assertExactly(Set(0..<count))
    }

    /// `create` with `app.log*` matched: the renamed file keeps its id and offset (`fileMoved`).
    @Test func createWithRotatedNamesMatched() throws {
        let rig = try RotationRig("create-glob", paths: ["app.log*"], exclude: ["*.gz"])
        let writer = LineWriter(path: rig.path("app.log"))
        try rig.startAgent()
        for _ in 0..<3 {
            usleep(300_000)
            try rig.logrotate("rotate 5\ncreate")
            usleep(20_000)
            writer.reopen()
        }
        usleep(300_000)
        let count = writer.stop()
        try rig.assertExactly(Set(0..<count))
        #expect(rig.log.contains("tail.file_moved") || rig.log.contains("file_moved"), "rename seen as a move")
    }

    /// `copytruncate`: the agent sees the shrink and restarts at 0; the copy is not matched and
    /// never read. The writer is paused from before the copy until after the truncation, and
    /// the agent has caught up before the copy: lines written in between, or still unread at the
    /// truncation, exist only in the copy (copytruncate's own loss, see docs/rotation.md).
    @Test func copytruncate() throws {
        let rig = try RotationRig("copytruncate")
        let writer = LineWriter(path: rig.path("app.log"))
        try rig.startAgent()
        for _ in 0..<3 {
            usleep(300_000)
            writer.pause()
            try rig.waitForCatchUp(writer.next)
            try rig.logrotate("rotate 5\ncopytruncate")
            writer.resume()
        }
        usleep(300_000)
        let count = writer.stop()
        try rig.assertExactly(Set(0..<count))
    }

    /// `compress` + `delaycompress` with `app.log*` minus `*.gz`: `app.log.1` is a moved file,
    /// `app.log.2` is renamed, gzipped and deleted (drained), and `.gz` files are never read.
    @Test func compressAndDelaycompress() throws {
        let rig = try RotationRig("compress", paths: ["app.log*"], exclude: ["*.gz"])
        let writer = LineWriter(path: rig.path("app.log"))
        try rig.startAgent()
        for _ in 0..<4 {
            usleep(300_000)
            try rig.logrotate("rotate 5\ncreate\ncompress\ndelaycompress")
            usleep(20_000)
            writer.reopen()
        }
        usleep(300_000)
        let count = writer.stop()
        #expect(FileManager.default.fileExists(atPath: rig.path("app.log.3.gz")))
        try rig.assertExactly(Set(0..<count))
    }

    /// `dateext` names (`app.log-<date>-<epoch>`), matched by a second glob, compressed ones
    /// excluded.
    @Test func dateext() throws {
        let rig = try RotationRig("dateext", paths: ["app.log", "app.log-*"], exclude: ["*.gz"])
        let writer = LineWriter(path: rig.path("app.log"))
        try rig.startAgent()
        for _ in 0..<3 {
            usleep(1_100_000)  // `%s` in the name: one rotation per second
            try rig.logrotate("rotate 5\ncreate\ndateext\ndateformat -%Y%m%d-%s\ncompress\ndelaycompress")
            usleep(20_000)
            writer.reopen()
        }
        usleep(300_000)
        let count = writer.stop()
        let names = try FileManager.default.contentsOfDirectory(atPath: rig.logs)
        #expect(names.filter { $0.hasPrefix("app.log-") }.count == 3, "\(names)")
        try rig.assertExactly(Set(0..<count))
    }

    /// copytruncate with `app.log*` matched: the copy `app.log.1` begins with the bytes already
    /// read through `app.log`, so it must be recognised as that content, not read again.
    /// It is started at the offset where reading of `app.log` stopped (`tail.copy_recognised`).
    @Test func copytruncateWithRotatedNamesMatched() throws {
        let rig = try RotationRig("copytruncate-glob", paths: ["app.log*"], exclude: ["*.gz"])
        let writer = LineWriter(path: rig.path("app.log"))
        try rig.startAgent()
        for _ in 0..<2 {
            usleep(300_000)
            writer.pause()
            try rig.waitForCatchUp(writer.next)
            try rig.logrotate("rotate 5\ncopytruncate")
            writer.resume()
        }
        usleep(300_000)
        let count = writer.stop()
        try rig.assertExactly(Set(0..<count))
        #expect(rig.log.contains("copy_recognised"), "the copies were recognised")
    }
}
