import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Rotation conformance, part two: renames, deletes, truncation, inode reuse, same-prefix files,
/// rotation while the agent is stopped and a log directory that disappears, done by hand.
@Suite(.serialized) struct RotationFileTests {
    /// `mv app.log app.log.1` with many unread lines behind it: the old descriptor is drained.
    @Test func renameAwayWithUnreadLines() throws {
        let rig = try RotationRig("rename")
        let writer = LineWriter(path: rig.path("app.log"))
        try rig.startAgent()
        for _ in 0..<2 {
            usleep(300_000)
            writer.pause()
            // The agent has sighted this file (a file born and renamed away or deleted before
            // the tailer first sees it cannot be read by anyone): then 8,000 unread lines.
            try rig.waitForCatchUp(writer.next)
            writer.burst(8_000)
            #expect(rename(rig.path("app.log"), rig.path("app.log.1")) == 0)
            writer.reopen()
            writer.resume()
        }
        usleep(300_000)
        let count = writer.stop()
        try rig.assertExactly(Set(0..<count), timeout: 20)
    }

    /// A file deleted before it was read: read to its end through the open descriptor; the file
    /// created again at the same path is new and read from 0.
    @Test func deletedWhileUnread() throws {
        let rig = try RotationRig("delete", paths: ["*.log"])
        let writer = LineWriter(path: rig.path("app.log"))
        try rig.startAgent()
        for _ in 0..<2 {
            usleep(300_000)
            writer.pause()
            // The agent has sighted this file (a file born and renamed away or deleted before
            // the tailer first sees it cannot be read by anyone): then 8,000 unread lines.
            try rig.waitForCatchUp(writer.next)
            writer.burst(8_000)
            #expect(unlink(rig.path("app.log")) == 0)
            writer.reopen()
            writer.resume()
        }
        usleep(300_000)
        let count = writer.stop()
        try rig.assertExactly(Set(0..<count), timeout: 20)
    }

    /// `truncate -s 0` in place while the writer (O_APPEND) goes on: reading restarts at 0. The
    /// agent has caught up first: unread bytes destroyed by a truncation are gone for anyone.
    @Test func truncatedInPlace() throws {
        let rig = try RotationRig("truncate")
        let writer = LineWriter(path: rig.path("app.log"))
        try rig.startAgent()
        for _ in 0..<3 {
            usleep(300_000)
            writer.pause()
            try rig.waitForCatchUp(writer.next)
            #expect(truncate(rig.path("app.log"), 0) == 0)
            writer.resume()
        }
        usleep(300_000)
        let count = writer.stop()
        try rig.assertExactly(Set(0..<count))
    }

    /// A new file on the inode of a deleted one, both live and while the agent is stopped: it is
    /// a new file (its first bytes differ), read from 0, never resumed at the old offset.
    @Test func inodeReuse() throws {
        let rig = try RotationRig("inode")
        try append(LineWriter.lines(0..<2_000), to: rig.path("app.log"))
        let first = try #require(rig.inode("app.log"))
        try rig.startAgent()
        try rig.waitForCatchUp(2_000)
        // Live: the agent holds the deleted file until it is drained and closed; only then is
        // its inode free for the new file.
        #expect(unlink(rig.path("app.log")) == 0)
        let closed = eventually(timeout: 5) { rig.log.contains("tail.file_closed") }
        #expect(closed, "\(rig.log)")
        try rig.createReusingInode(first, name: "app.log", contents: LineWriter.lines(2_000..<2_100))
        #expect(rig.inode("app.log") == first, "the freed inode went to the next file")
        try rig.waitForCatchUp(2_100)
        rig.stopAgent()
        // Stopped: the checkpoint for this inode says "offset = size"; the new file is longer.
        #expect(unlink(rig.path("app.log")) == 0)
        try rig.createReusingInode(first, name: "app.log", contents: LineWriter.lines(2_100..<4_000))
        #expect(rig.inode("app.log") == first, "the inode is reused again")
        try rig.startAgent()
        try rig.assertExactly(Set(0..<4_000))
    }

    /// Two files whose first 2 KiB are the same bytes: two identities (by inode), both read in
    /// full, before and after a restart, and their events never collapse into one another.
    @Test func twoFilesWithTheSamePrefix() throws {
        let rig = try RotationRig("prefix", paths: ["*.log"])
        let header = String(repeating: "# service started, configuration follows, nothing to see here\n", count: 34)
        try append(header + LineWriter.lines(0..<500), to: rig.path("a.log"))
        try append(header + LineWriter.lines(100_000..<100_500), to: rig.path("b.log"))
        try rig.startAgent()
        try rig.waitForCatchUp(1_000)
        rig.stopAgent()
        try append(LineWriter.lines(500..<700), to: rig.path("a.log"))
        try append(LineWriter.lines(100_500..<100_700), to: rig.path("b.log"))
        try append(header + LineWriter.lines(200_000..<200_100), to: rig.path("c.log"))
        try rig.startAgent()
        try rig.assertExactly(Set(0..<700).union(100_000..<100_700).union(200_000..<200_100))
    }

    /// SIGTERM, rotate three times with lines in between, restart: every rotated file is found
    /// by identity (the oldest resumed from its checkpoint) and finished, the new one read.
    @Test func rotatedThreeTimesWhileStopped() throws {
        let rig = try RotationRig("stopped", paths: ["app.log*"], exclude: ["*.gz"])
        let writer = LineWriter(path: rig.path("app.log"))
        try rig.startAgent()
        usleep(500_000)
        writer.burst(5_000)  // some of it still unread when the agent stops
        rig.stopAgent()
        for _ in 0..<3 {
            usleep(100_000)
            try rig.logrotate("rotate 5\ncreate")
            writer.reopen()
            writer.burst(1_000)
        }
        try rig.startAgent()
        usleep(500_000)
        let count = writer.stop()
        try rig.assertExactly(Set(0..<count))
    }

    /// The log directory is removed with unread lines in its file and created again: the old
    /// file is drained, the new directory found through the parent's watch.
    @Test func logDirectoryDeletedAndRecreated() throws {
        let rig = try RotationRig("dir")
        let writer = LineWriter(path: rig.path("app.log"))
        try rig.startAgent()
        for _ in 0..<2 {
            usleep(300_000)
            writer.pause()
            // The agent must have the file open (a file deleted before it was ever seen cannot
            // be read, see docs/rotation.md): once everything so far arrived, it has.
            try rig.waitForCatchUp(writer.next)
            writer.burst(5_000)
            try FileManager.default.removeItem(atPath: rig.logs)
            usleep(100_000)
            try FileManager.default.createDirectory(atPath: rig.logs, withIntermediateDirectories: false)
            writer.reopen()
            writer.resume()
        }
        usleep(300_000)
        let count = writer.stop()
        try rig.assertExactly(Set(0..<count), timeout: 20)
    }

    /// The writer died mid-line, then the file was rotated away: once the old file is drained
    /// and closed, its partial last line is emitted (nothing more can ever complete it).
    @Test func partialLastLineOfARotatedAwayFile() throws {
        let rig = try RotationRig("partial")
        let full = LineWriter.lines(0..<100)
        let last = LineWriter.line(100)
        try append(full + last.dropLast(), to: rig.path("app.log"))
        try rig.startAgent()
        try rig.waitForCatchUp(100)
        #expect(rename(rig.path("app.log"), rig.path("app.log.1")) == 0)
        try append(LineWriter.lines(101..<200), to: rig.path("app.log"))
        try rig.assertExactly(Set(0..<200))
    }
}
