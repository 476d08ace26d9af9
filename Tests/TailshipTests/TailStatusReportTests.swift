import Foundation
import Logging
import Testing

@testable import Tailship

/// `tailship status`: size, bytes behind and state for each checkpointed file, whether an agent
/// holds the state directory, and what it published.
@Suite(.serialized) struct TailStatusReportTests {
    static let now: Int64 = 1_800_000_000_000

    static func checkpoint(_ dir: TailTempDir, _ name: String, offset: UInt64, ageMs: Int64) throws -> Checkpoint {
        let file = try ReadableFile(path: dir.path(name))
        let identity = try FileIdentity.compute(for: file)
        return Checkpoint(
            identity: identity, path: dir.path(name), source: "app", offset: offset, updatedMs: now - ageMs)
    }

    @Test func rowsShowBehindStalledPartialRotatedAndGoneFiles() throws {
        let dir = try TailTempDir()
        let state = try TailTempDir()
        dir.write("done.log", "a\nb\n")
        dir.write("busy.log", "a\nb\nc\n")
        dir.write("stuck.log", "x\ny\nz\n")
        dir.write("half.log", "x\ny\nno newline yet")
        dir.write("moved.log", "m\n")
        dir.write("away.log", "first line\n")
        dir.write("deleted.log", "d\n")
        var store = try CheckpointStore(directory: state.root)
        store.update(try Self.checkpoint(dir, "done.log", offset: 4, ageMs: 3_600_000))
        store.update(try Self.checkpoint(dir, "busy.log", offset: 2, ageMs: 1_000))
        store.update(try Self.checkpoint(dir, "stuck.log", offset: 2, ageMs: 600_000))
        // Unmoved for an hour, but all that is left is a line without its newline: not stalled.
        store.update(try Self.checkpoint(dir, "half.log", offset: 4, ageMs: 3_600_000))
        store.update(try Self.checkpoint(dir, "moved.log", offset: 2, ageMs: 1_000))
        store.update(try Self.checkpoint(dir, "away.log", offset: 11, ageMs: 1_000))
        store.update(try Self.checkpoint(dir, "deleted.log", offset: 2, ageMs: 1_000))
        try store.save()
        // Renamed to a name the glob matches, and to one it does not (found in its directory).
        try dir.rename("moved.log", "moved.log.1")
        try dir.rename("away.log", "away.log-20261204")
        dir.write("away.log", "its successor\n")
        try FileManager.default.removeItem(atPath: dir.path("deleted.log"))

        let report = try StatusReport(
            stateDir: state.root, sources: [TailSource(name: "app", paths: [dir.root + "/*.log*"])], nowMs: Self.now)
        let byName = Dictionary(uniqueKeysWithValues: report.rows.map { (($0.path as NSString).lastPathComponent, $0) })
        #expect(byName["done.log"]?.state == .ok && byName["done.log"]?.behind == 0)
        #expect(byName["busy.log"]?.state == .behind && byName["busy.log"]?.behind == 4)
        #expect(byName["stuck.log"]?.state == .stalled && byName["stuck.log"]?.behind == 4)
        #expect(byName["half.log"]?.state == .partial && byName["half.log"]?.behind == 14)
        #expect(byName["moved.log.1"]?.state == .rotated && byName["moved.log.1"]?.size == 2)
        #expect(byName["moved.log.1"]?.rotatedFrom == dir.path("moved.log"))
        #expect(byName["away.log-20261204"]?.state == .rotated)
        #expect(byName["away.log-20261204"]?.rotatedFrom == dir.path("away.log"))
        #expect(byName["deleted.log"]?.state == .gone && byName["deleted.log"]?.size == nil)
        #expect(byName["deleted.log"]?.rotatedFrom == nil && byName["done.log"]?.rotatedFrom == nil)

        let table = report.table().split(separator: "\n")
        #expect(
            table.first?.split(separator: " ")
                == ["PATH", "IDENTITY", "OFFSET", "SIZE", "BEHIND", "UPDATED", "STATE", "FROM"])
        #expect(table.contains { $0.hasPrefix(dir.path("stuck.log")) && $0.hasSuffix("stalled") })
        #expect(table.contains { $0.hasPrefix(dir.path("half.log")) && $0.hasSuffix("partial") })
        #expect(table.contains { $0.hasPrefix(dir.path("deleted.log")) && $0.hasSuffix("gone") })
        #expect(
            table.contains {
                $0.hasPrefix(dir.path("moved.log.1")) && $0.hasSuffix("rotated  \(dir.path("moved.log"))")
            })
    }

    /// Status reads at most `partialLineWindow` of a file: an unread part longer than that is not
    /// taken for a partial line, and one with a newline in it is unread lines.
    @Test func aPartialLineIsJudgedFromABoundedRead() throws {
        let dir = try TailTempDir()
        let long = String(repeating: "x", count: StatusReport.partialLineWindow)
        dir.write("short.log", "done\nhalf")
        dir.write("lines.log", "done\none\nhalf")
        dir.write("exact.log", "done\n" + long)
        dir.write("long.log", "done\n" + long + "y")
        let judge = { (name: String) throws -> Bool in
            let file = try ReadableFile(path: dir.path(name))
            return StatusReport.unreadIsPartialLine(file, offset: 5, size: try file.status().size)
        }
        #expect(try judge("short.log"))
        #expect(try !judge("lines.log"))
        #expect(try judge("exact.log"))
        #expect(try !judge("long.log"))
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
        (UInt64(10), UInt64?.some(10), Int64(0), false, false, StatusReport.State.ok),
        (10, 20, 1_000, false, false, .behind),
        (10, 20, 400_000, false, false, .stalled),
        (10, 20, 400_000, true, false, .partial),
        (10, 20, 1_000, true, true, .partial),
        (10, 10, 0, false, true, .rotated),
        (10, 20, 400_000, false, true, .stalled),
        (10, nil, 0, false, false, .gone),
    ])
    func stateRule(
        offset: UInt64, size: UInt64?, ageMs: Int64, partialLine: Bool, moved: Bool, expected: StatusReport.State
    ) {
        let state = StatusReport.state(
            offset: offset, size: size, updatedMs: Self.now - ageMs, nowMs: Self.now,
            stallAfterMs: StatusReport.defaultStallAfterMs, partialLine: partialLine, moved: moved)
        #expect(state == expected)
    }

    /// The lock is looked for in the kernel's table, never taken: held by this process here.
    @Test func theAgentIsRunningExactlyWhileTheLockIsHeld() throws {
        let state = try TailTempDir()
        #expect(StateDirectoryLock.holder(stateDir: state.root) == .notRunning)
        let lock = try StateDirectoryLock(stateDir: state.root)
        #expect(StateDirectoryLock.holder(stateDir: state.root) == .running(pid: getpid()))
        #expect(
            StateDirectoryLock.holder(stateDir: state.root, locksTable: state.path("no-such-table"))
                == .unknown("\(state.path("no-such-table")) cannot be read"))
        lock.release()
        // The lock file stays behind, unlocked: a stopped agent.
        #expect(FileManager.default.fileExists(atPath: state.path(StateDirectoryLock.fileName)))
        #expect(StateDirectoryLock.holder(stateDir: state.root) == .notRunning)
    }

    /// What the running agent publishes is shown as current; once it is gone, as last known.
    @Test func thePublishedStatusIsCurrentOnlyForTheAgentHoldingTheLock() throws {
        let state = try TailTempDir()
        _ = try CheckpointStore(directory: state.root)
        let publisher = AgentStatusPublisher(stateDir: state.root, startedMs: Self.now, logger: Logger(label: "test"))
        let unopenable = [
            UnopenableFile(path: "/var/log/secret.log", error: "open: Permission denied", sinceMs: Self.now)
        ]
        publisher.publish(
            shipper: .retrying(sinceMs: Self.now, reason: "503 Service Unavailable"), unopenable: unopenable)
        let path = AgentStatus.path(stateDir: state.root)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        var lock: StateDirectoryLock? = try StateDirectoryLock(stateDir: state.root)
        var report = try StatusReport(stateDir: state.root)
        #expect(report.publishedIsCurrent && report.published?.unopenable == unopenable)
        var lines = report.text().split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("AGENT    running, pid \(getpid()), started "))
        #expect(
            lines[1].hasPrefix("SHIPPER  retrying since ")
                && lines[1].hasSuffix("(last failure: 503 Service Unavailable)"))
        #expect(lines.contains { $0.hasPrefix("/var/log/secret.log") && $0.hasSuffix("open: Permission denied") })

        // Unchanged: not written again (its time would move).
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        Thread.sleep(forTimeInterval: 0.01)
        publisher.publish(
            shipper: .retrying(sinceMs: Self.now, reason: "503 Service Unavailable"), unopenable: unopenable)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        publisher.publish(shipper: .paused(sinceMs: Self.now, reason: "401 Unauthorized"), unopenable: [])
        report = try StatusReport(stateDir: state.root)
        lines = report.text().split(separator: "\n").map(String.init)
        #expect(lines[1].hasPrefix("SHIPPER  paused: credentials refused since "))
        #expect(!report.text().contains("CANNOT OPEN"))

        lock?.release()
        lock = nil
        report = try StatusReport(stateDir: state.root)
        #expect(!report.publishedIsCurrent && report.published?.pid == getpid())
        lines = report.text().split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("AGENT    not running (the state below is the last one pid \(getpid()) published"))
        #expect(lines[1].hasSuffix("(last known)"))
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        let agent = try #require(json["agent"] as? [String: Any])
        #expect(agent["state"] as? String == "not_running" && agent["lastKnown"] as? Bool == true)
        let shipper = try #require(json["shipper"] as? [String: Any])
        #expect(shipper["state"] as? String == "paused" && shipper["reason"] as? String == "401 Unauthorized")
        #expect(shipper["sinceMs"] as? Int64 == Self.now)
    }

    @Test func aStatusFileItCannotReadIsSaidSo() throws {
        let state = try TailTempDir()
        _ = try CheckpointStore(directory: state.root)
        state.write(AgentStatus.fileName, "not json")
        let report = try StatusReport(stateDir: state.root)
        #expect(report.published == nil)
        #expect(
            report.text().split(separator: "\n")[1].hasPrefix(
                "SHIPPER  unknown (\(state.path(AgentStatus.fileName)): not an agent status file"))
    }

    /// The shipper's state: `since` is the first failure of a kind, the reason the last one.
    @Test func shipperHealthKeepsTheFirstFailureTimeAndTheLastReason() {
        let health = ShipperHealth()
        #expect(health.current == .ok)
        health.failed(reason: "503", credentialsRefused: false, nowMs: 1)
        health.failed(reason: "timeout", credentialsRefused: false, nowMs: 2)
        #expect(health.current == .retrying(sinceMs: 1, reason: "timeout"))
        health.failed(reason: "401", credentialsRefused: true, nowMs: 3)
        health.failed(reason: "403", credentialsRefused: true, nowMs: 4)
        #expect(health.current == .paused(sinceMs: 3, reason: "403"))
        health.delivered()
        #expect(health.current == .ok)
    }
}
