import Foundation
import Glibc
import Logging
import Testing

@testable import Tailship

/// Many files: idle files cost one `fstat` per rescan, and idle descriptors are bounded
/// (closed, then reopened on change with their identity checked).
@Suite(.serialized)
struct TailScaleTests {
    func makeTailer(_ dir: TailTempDir, _ sink: CollectingSink, maxOpenFiles: Int, glob: String = "*.log") -> Tailer {
        Tailer(
            sources: [
                TailSource(name: "app", paths: [dir.root + "/" + glob], startAt: .beginning, maxOpenFiles: maxOpenFiles)
            ],
            sink: sink, options: TailTailerTests.fastOptions, logger: TailTailerTests.quietLogger)
    }

    /// Descriptors of this process open on files under `dir` (other tests' files do not count).
    func openDescriptors(under dir: TailTempDir) -> Int {
        openPaths(under: dir).count
    }

    /// The paths this process holds open under `dir`, one per descriptor.
    func openPaths(under dir: TailTempDir) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0) }
            .filter { $0.hasPrefix(dir.root + "/") }
    }

    static func sourceConfig(_ extra: String) -> String {
        """
        destination: { kind: stdout }
        sources:
          - name: app
            paths: ["/var/log/app/*.log"]
        \(extra)
            rules:
              - { name: all, match: '(?<m>.*)', event: "Line", distinct_id: "x", drop: true }
        """
    }

    @Test func maxOpenFilesDecodesWithItsDefaultAndBounds() throws {
        let plain = try ConfigLoader.parse(text: Self.sourceConfig(""), file: "a.yaml", environment: [:])
        #expect(plain.sources.first?.maxOpenFiles == ConfigDefaults.maxOpenFiles)
        #expect(TailSource(try #require(plain.sources.first)).maxOpenFiles == 256)
        let set = try ConfigLoader.parse(
            text: Self.sourceConfig("    max_open_files: 32"), file: "a.yaml", environment: [:])
        #expect(TailSource(try #require(set.sources.first)).maxOpenFiles == 32)
        #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(text: Self.sourceConfig("    max_open_files: 0"), file: "a.yaml", environment: [:])
        }
    }

    @Test func pollIntervalDecodesAndIsBounded() throws {
        let plain = try ConfigLoader.parse(text: Self.sourceConfig(""), file: "a.yaml", environment: [:])
        #expect(plain.sources.first?.pollIntervalMs == nil)
        #expect(TailSource(try #require(plain.sources.first)).pollInterval == nil)
        let set = try ConfigLoader.parse(
            text: Self.sourceConfig("    poll_interval: 2s"), file: "a.yaml", environment: [:])
        #expect(TailSource(try #require(set.sources.first)).pollInterval == .seconds(2))
        #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(text: Self.sourceConfig("    poll_interval: 10ms"), file: "a.yaml", environment: [:])
        }
    }

    @Test func aPolledSourceIsReadWithoutInotify() throws {
        let dir = try TailTempDir()
        dir.write("old.log", "old 1\n")
        let polled = TailSource(
            name: "nfs", paths: [dir.root + "/*.log"], startAt: .beginning, pollInterval: .milliseconds(150))
        // Its directory is not watched: only polling can find what is written there.
        #expect(Discovery(sources: [polled]).scan().directories.isEmpty)
        #expect(Discovery(sources: [polled]).scan().files.count == 1)
        var options = TailTailerTests.fastOptions
        options.rescanInterval = .seconds(3600)  // no safety rescan to help
        let sink = CollectingSink()
        let tailer = Tailer(sources: [polled], sink: sink, options: options, logger: TailTailerTests.quietLogger)
        try tailer.start()
        defer { tailer.stop() }
        #expect(eventually { sink.texts == ["old 1"] })
        dir.append("old.log", "old 2\n")
        dir.write("new.log", "new 1\n")
        #expect(eventually(3) { sink.texts.count >= 3 })
        try dir.rename("old.log", "old.log.1")
        dir.append("old.log.1", "old 3\n")  // written through the renamed file: drained
        #expect(eventually(3) { sink.texts.count >= 4 })
        usleep(400_000)
        #expect(Set(sink.texts) == ["old 1", "old 2", "old 3", "new 1"])
        #expect(sink.texts.count == 4)
    }

    @Test func unchangedStatusIsTrustedOnlyWellAfterTheLastChange() throws {
        let dir = try TailTempDir()
        let path = dir.write("a.log", "one\n")
        let fresh = try FileStatus.of(path: path)
        #expect(!TailedFile.trustworthy(fresh))
        var old = fresh
        old.modifiedNs -= 5_000_000_000
        old.changedNs -= 5_000_000_000
        #expect(TailedFile.trustworthy(old))
        // Both times count: a file whose data is old but whose inode changed just now (a
        // truncate and refill with its mtime put back, as `cp -p` does) is not trusted yet.
        var oldDataOnly = fresh
        oldDataOnly.modifiedNs -= 5_000_000_000
        #expect(!TailedFile.trustworthy(oldDataOnly))
        var oldInodeOnly = fresh
        oldInodeOnly.changedNs -= 5_000_000_000
        #expect(!TailedFile.trustworthy(oldInodeOnly))
    }

    /// Sets `path`'s access and modification times to `seconds` since the epoch: the kernel
    /// moves its change time to now whatever is set.
    func setModified(_ path: String, seconds: Int) throws {
        var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
        try #require(utimensat(AT_FDCWD, path, &times, 0) == 0, "utimensat: \(String(cString: strerror(errno)))")
    }

    /// Writes `text` over `path` from its start (same inode), truncating it first if asked.
    func rewrite(_ path: String, _ text: String, truncating: Bool) throws {
        let writer = try #require(FileHandle(forUpdatingAtPath: path))
        if truncating { try writer.truncate(atOffset: 0) } else { try writer.seek(toOffset: 0) }
        try writer.write(contentsOf: Data(text.utf8))
        try writer.close()
    }

    @Test func isUnchangedHoldsBetweenTwoLooksAtAnUntouchedFile() throws {
        let dir = try TailTempDir()
        let path = dir.write("a.log", "one\n")
        let first = try FileStatus.of(path: path)
        usleep(30_000)  // past a tick of the kernel's file-time clock
        let second = try FileStatus.of(path: path)
        let reader = try ReadableFile(path: path)
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(try buffer.withUnsafeMutableBytes { try reader.read(into: $0, at: 0) } == 4)  // reading is no change
        let third = try reader.status()
        #expect(second.isUnchanged(since: first))
        #expect(third.isUnchanged(since: first))
        #expect(first.isUnchanged(since: third))
    }

    @Test func isUnchangedSeesAnAppendARewriteARefillAndAReplacement() throws {
        let dir = try TailTempDir()
        let path = dir.write("a.log", "one\n")
        let original = try FileStatus.of(path: path)

        // Appended: the size moves.
        dir.append("a.log", "two\n")
        let appended = try FileStatus.of(path: path)
        #expect(appended.size == original.size + 4)
        #expect(!appended.isUnchanged(since: original))

        // Rewritten in place with as many bytes, its mtime set to a distinct later time.
        try rewrite(path, "ONE\nTWO\n", truncating: false)
        let later = Int(appended.modifiedNs / 1_000_000_000) + 7
        try setModified(path, seconds: later)
        let rewritten = try FileStatus.of(path: path)
        #expect(rewritten.size == appended.size && rewritten.inode == appended.inode)
        #expect(rewritten.modifiedNs == Int64(later) * 1_000_000_000)
        #expect(!rewritten.isUnchanged(since: appended))

        // Truncated and refilled to the same size, the mtime put back as it was: only the
        // change time tells (the kernel sets it on every truncate, write and utimensat).
        usleep(30_000)
        try rewrite(path, "one\ntwo\n", truncating: true)
        try setModified(path, seconds: later)
        let refilled = try FileStatus.of(path: path)
        #expect(refilled.size == rewritten.size && refilled.inode == rewritten.inode)
        #expect(refilled.modifiedNs == rewritten.modifiedNs)
        try #require(refilled.changedNs != rewritten.changedNs, "the file system did not move st_ctim")
        #expect(!refilled.isUnchanged(since: rewritten))

        // Replaced by another file (another inode) of the same size and mtime.
        let other = dir.write("b.log", "one\ntwo\n")
        try setModified(other, seconds: later)
        #expect(rename(other, path) == 0)
        let replaced = try FileStatus.of(path: path)
        #expect(replaced.inode != refilled.inode)
        #expect(replaced.size == refilled.size && replaced.modifiedNs == refilled.modifiedNs)
        #expect(!replaced.isUnchanged(since: refilled))
    }

    /// Each compared field on its own (the kernel cannot be made to move just one of them): a
    /// difference in any one of them is a change.
    @Test func isUnchangedComparesDeviceInodeSizeAndBothTimes() throws {
        let dir = try TailTempDir()
        let base = try FileStatus.of(path: dir.write("a.log", "one\n"))
        let variants: [(String, (inout FileStatus) -> Void)] = [
            ("device", { $0.device += 1 }), ("inode", { $0.inode += 1 }), ("size", { $0.size += 1 }),
            ("modifiedNs", { $0.modifiedNs += 1 }), ("changedNs", { $0.changedNs += 1 }),
        ]
        for (field, change) in variants {
            var changed = base
            change(&changed)
            #expect(!changed.isUnchanged(since: base), "a different \(field) is a change")
            #expect(!base.isUnchanged(since: changed), "a different \(field) is a change")
        }
    }

    @Test func aVerifiedIdleFileStillSeesTruncateAndRefillToTheSameSize() throws {
        let dir = try TailTempDir()
        let path = dir.write("a.log", "aaaa 1\naaaa 2\n")
        usleep(1_100_000)  // older than the trust margin, so the check is cached
        let handle = try ReadableFile(path: path)
        let file = TailedFile(
            id: 1, source: 0, path: path, file: handle, status: try handle.status(), start: .zero(.beginning),
            maxLineBytes: 1024)
        #expect(try file.establish(path: path, resume: { _, _, _ in .unknown }, log: { _, _ in }).offset == 0)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
        defer { buffer.deallocate() }
        var lines = 0
        #expect(try file.readAvailable(buffer: buffer, budget: 4) { lines += $0.count } == .atEnd)
        #expect(lines == 2)
        #expect(file.verified != nil)
        #expect(try file.readAvailable(buffer: buffer, budget: 4) { lines += $0.count } == .atEnd)
        // Rewritten in place with other bytes of the same length: size alike, times not.
        let writer = try #require(FileHandle(forUpdatingAtPath: path))
        try writer.truncate(atOffset: 0)
        writer.write(Data("bbbb 1\nbbbb 2\n".utf8))
        try writer.close()
        #expect(try file.readAvailable(buffer: buffer, budget: 4) { lines += $0.count } == .truncated)
    }

    @Test func idleDescriptorsStayBoundedAndEveryLineArrivesOnce() throws {
        let dir = try TailTempDir()
        let sink = CollectingSink()
        let bound = 8
        let tailer = makeTailer(dir, sink, maxOpenFiles: bound)
        try tailer.start()
        defer { tailer.stop() }
        let names = (0..<120).map { String(format: "f%03d.log", $0) }
        var peak = 0
        for (index, name) in names.enumerated() {
            dir.write(name, "\(name) r1 a\n\(name) r1 b\n")
            if index % 10 == 0 { peak = max(peak, openDescriptors(under: dir)) }
        }
        #expect(
            eventually(10) {
                peak = max(peak, openDescriptors(under: dir))
                return sink.texts.count >= 240
            })
        // Round two: every file was closed at some point, and is reopened on its change.
        for name in names { dir.append(name, "\(name) r2\n") }
        #expect(
            eventually(10) {
                peak = max(peak, openDescriptors(under: dir))
                return sink.texts.count >= 360
            })
        usleep(600_000)  // a rescan or two later
        peak = max(peak, openDescriptors(under: dir))
        let texts = sink.texts
        #expect(texts.count == 360)
        #expect(Set(texts).count == 360)
        #expect(peak <= bound + 2, "peak \(peak) descriptors for a bound of \(bound)")
        #expect(openDescriptors(under: dir) <= bound)
        // Closed files keep their identity: no file was announced twice.
        let opened = sink.records.filter { if case .opened = $0 { true } else { false } }
        #expect(opened.count == 120)
    }

    @Test func aClosedFileRenamedToAnUnmatchedNameRightAfterAWriteIsStillRead() throws {
        let dir = try TailTempDir()
        let sink = CollectingSink()
        let tailer = makeTailer(dir, sink, maxOpenFiles: 1)
        try tailer.start()
        defer { tailer.stop() }
        for name in ["a.log", "b.log", "c.log"] { dir.write(name, "\(name) 1\n") }
        #expect(eventually { sink.texts.count >= 3 })
        usleep(100_000)
        // Append to each file, then rename it away at once: either the modify event reopened it
        // first, or the paired move events lead the tailer to its new name.
        for name in ["a.log", "b.log", "c.log"] {
            dir.append(name, "\(name) 2\n")
            try dir.rename(name, name + ".old")
        }
        #expect(eventually { sink.texts.count >= 6 })
        usleep(300_000)
        #expect(Set(sink.texts) == Set(["a.log", "b.log", "c.log"].flatMap { ["\($0) 1", "\($0) 2"] }))
        #expect(sink.texts.count == 6)
    }

    /// Without inotify (a polled source) no move event names a parked file's new name: it is
    /// found by its inode among its directory's entries. (With inotify the same lookup covers move
    /// events that arrive after the scan that misses the file, a race seen once in CI.)
    @Test func aClosedPolledFileRenamedToAnUnmatchedNameIsFoundByItsInode() throws {
        let dir = try TailTempDir()
        let polled = TailSource(
            name: "nfs", paths: [dir.root + "/*.log"], startAt: .beginning, maxOpenFiles: 1,
            pollInterval: .milliseconds(150))
        var options = TailTailerTests.fastOptions
        options.rescanInterval = .seconds(3600)
        let sink = CollectingSink()
        let tailer = Tailer(sources: [polled], sink: sink, options: options, logger: TailTailerTests.quietLogger)
        for name in ["a.log", "b.log", "c.log"] { dir.write(name, "\(name) 1\n") }
        try tailer.start()
        defer { tailer.stop() }
        #expect(eventually { sink.texts.count >= 3 })
        usleep(400_000)  // a poll or two: two of the three are parked
        for name in ["a.log", "b.log", "c.log"] {
            dir.append(name, "\(name) 2\n")
            try dir.rename(name, name + ".old")
        }
        #expect(eventually(3) { sink.texts.count >= 6 })
        usleep(400_000)
        #expect(Set(sink.texts) == Set(["a.log", "b.log", "c.log"].flatMap { ["\($0) 1", "\($0) 2"] }))
        #expect(sink.texts.count == 6)
    }

    /// A parked file deleted while closed, its inode at once reused by a file no glob matches:
    /// found by that inode, but not the same content, so it is never adopted (and never read).
    @Test func aParkedFilesReusedInodeIsNotAdopted() throws {
        let dir = try TailTempDir()
        let polled = TailSource(
            name: "nfs", paths: [dir.root + "/*.log"], startAt: .beginning, maxOpenFiles: 1,
            pollInterval: .milliseconds(400))
        var options = TailTailerTests.fastOptions
        options.rescanInterval = .seconds(3600)
        let sink = CollectingSink()
        let tailer = Tailer(sources: [polled], sink: sink, options: options, logger: TailTailerTests.quietLogger)
        dir.write("a.log", "a 1\n")
        try tailer.start()
        defer { tailer.stop() }
        #expect(eventually { sink.texts == ["a 1"] })
        dir.write("b.log", "b 1\n")
        #expect(eventually { sink.texts == ["a 1", "b 1"] })
        usleep(500_000)
        // One of the two holds the descriptor; the other is parked.
        let held = openPaths(under: dir)
        let parked = try #require(["a.log", "b.log"].first { !held.contains(dir.path($0)) })
        var st = stat()
        #expect(stat(dir.path(parked), &st) == 0)
        let inode = st.st_ino
        #expect(unlink(dir.path(parked)) == 0)
        var reused = false
        for attempt in 0..<500 where !reused {
            let spare = dir.path(".spare-\(attempt)")
            let fd = open(spare, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { continue }
            var created = stat()
            fstat(fd, &created)
            close(fd)
            if created.st_ino == inode {
                reused = true
                dir.append(".spare-\(attempt)", "secret data\n")
                try dir.rename(".spare-\(attempt)", "secret.txt")
            }
        }
        try #require(reused, "the file system did not reuse the inode within 500 new files")
        usleep(1_200_000)  // a few polls
        #expect(sink.texts == ["a 1", "b 1"], "a file no glob matches was read through a reused inode")
    }

    @Test func aClosedFileReplacedOrRewrittenIsReadAsANewFile() throws {
        let dir = try TailTempDir()
        let sink = CollectingSink()
        let tailer = makeTailer(dir, sink, maxOpenFiles: 1)
        try tailer.start()
        defer { tailer.stop() }
        for name in ["a.log", "b.log", "c.log"] { dir.write(name, "\(name) first\n") }
        #expect(eventually { sink.texts.count >= 3 })
        usleep(100_000)
        #expect(openDescriptors(under: dir) <= 1)
        // Replaced: deleted and created again (a new file, whatever inode it gets).
        try FileManager.default.removeItem(atPath: dir.path("a.log"))
        dir.write("a.log", "a.log second\n")
        // Rewritten in place: same inode, other first bytes.
        let writer = try #require(FileHandle(forUpdatingAtPath: dir.path("b.log")))
        try writer.truncate(atOffset: 0)
        writer.write(Data("b.log second, longer\n".utf8))
        try writer.close()
        #expect(eventually { sink.texts.count >= 5 })
        usleep(300_000)
        #expect(
            Set(sink.texts) == ["a.log first", "b.log first", "c.log first", "a.log second", "b.log second, longer"])
        #expect(sink.texts.count == 5)
    }
}
