import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Durable positions (PRODUCT.md, Delivery): `start_at` is decided once per file, the first time
/// the agent ever sees it, and from then on the file has a durable position. A stop (SIGTERM),
/// a reload (SIGHUP) or a crash (kill -9) at any instant, API up or down, resumes at or before
/// the first line not yet acknowledged, and a line read again carries the identical
/// `$insert_id` (the file's identity never changes however it grows).
@Suite(.serialized) struct PositionsEndToEndTests {
    /// The source's `start_at`: left out of the config (so `end`), or `beginning`.
    enum StartAt: String, CaseIterable, Sendable, CustomStringConvertible {
        case defaultEnd = "default"
        case beginning

        var description: String { rawValue }

        /// The source's `start_at` line, or nothing for the default.
        var yaml: String { self == .beginning ? "start_at: beginning" : "" }
    }

    /// How the running agent is interrupted.
    enum Interruption: String, CaseIterable, Sendable, CustomStringConvertible {
        /// SIGTERM, then a new agent.
        case sigterm
        /// SIGHUP: the agent reloads its (unchanged) config and goes on; no restart.
        case sighup
        /// SIGKILL, then a new agent.
        case kill9

        var description: String { rawValue }
    }

    /// The config of these tests: `FaultEndToEndTests.config` (fast batches and retries, the
    /// order rule, the source following `logs/*.log`) with `start_at` as given.
    static func config(dir: String, port: Int, startAt: StartAt) -> String {
        FaultEndToEndTests.config(dir: dir, port: port, startAt: startAt.yaml)
    }

    static func lines(_ range: Range<Int>) -> String { FaultEndToEndTests.lines(range) }

    // MARK: - Interrupted during an outage

    /// The API is down; 20 lines are appended to a file the agent follows and a new file with 20
    /// lines appears. Once the agent has read them and failed to ship them, it is stopped,
    /// reloaded or killed; the API comes back. Every one of those 40 lines arrives, once, under
    /// one key. With the default `start_at: end` the lines `app.log` held before the agent
    /// started are skipped; with `beginning` they arrive too.
    @Test(arguments: StartAt.allCases, Interruption.allCases)
    func linesReadDuringAnOutageSurviveAnInterruption(startAt: StartAt, interruption: Interruption) throws {
        let rig = try PositionsRig("pos-\(startAt)-\(interruption)", startAt: startAt)
        let app = rig.path("app.log")
        let new = rig.path("new.log")
        try append(Self.lines(0..<10), to: app)
        try rig.start()
        let preexisting: Range<Int> = startAt == .beginning ? 0..<10 : 0..<0
        if startAt == .beginning {
            #expect(try rig.waitForUnique(10), "the lines present at start arrive; log:\n\(rig.logTail)")
        }
        // The agent has settled on app.log (at its end, by default) before anything is appended.
        usleep(300_000)

        try rig.server.setConfig(["outage": true])
        try append(Self.lines(100..<120), to: app)
        try append(Self.lines(200..<220), to: new)
        // Read and offered to the API, which refused: nothing acknowledged, nothing delivered.
        #expect(try eventually(timeout: 10) { try rig.outageAnswers() >= 1 }, "no 503 seen; log:\n\(rig.logTail)")
        _ = eventually(timeout: 5) { rig.log.contains(new) }
        usleep(500_000)
        #expect(try rig.server.storedEvents(dedup: true).count == preexisting.count)

        switch interruption {
        case .sigterm:
            rig.stop()
            try rig.server.setConfig(["outage": false])
            try rig.start()
        case .kill9:
            rig.kill9()
            try rig.server.setConfig(["outage": false])
            try rig.start()
        case .sighup:
            try rig.reload()
            try rig.server.setConfig(["outage": false])
        }

        let expected = Array(preexisting) + Array(100..<120) + Array(200..<220)
        let arrived = try rig.waitForUnique(expected.count)
        #expect(arrived, "\(startAt) + \(interruption): lines lost; log:\n\(rig.logTail)")
        usleep(600_000)
        rig.stop()
        let unexpected = try rig.arrivedSeqs().subtracting(expected)
        #expect(unexpected.isEmpty, "lines that were not expected arrived: \(unexpected.sorted().prefix(10))")
        try FaultEndToEndTests.assertExactlyOnce(rig.server, expected: expected)
    }

    // MARK: - A young file killed right after its first acknowledgement

    /// A new file holds one short line (far below the 1 KiB a fingerprint covers); the agent is
    /// killed the moment the API has that line's event, before any periodic checkpoint save, and
    /// a second line is appended while it is down. After the restart both lines arrive, each
    /// under one key: the first may be sent again, but only as the identical event. Timing
    /// dependent, so three rounds, each in a fresh directory (stopping at the first that fails).
    @Test func youngFileKilledRightAfterItsFirstAcknowledgementKeepsItsPositionAndKeys() throws {
        for round in 1...3 {
            let rig = try PositionsRig("pos-young-\(round)", startAt: .defaultEnd)
            try rig.start()
            usleep(300_000)
            let young = rig.path("young.log")
            try append(Self.lines(0..<1), to: young)
            // Polled every 5 ms: the kill lands within a few ms of the acknowledgement.
            let deadline = Date().addingTimeInterval(10)
            var delivered = false
            while !delivered && Date() < deadline {
                delivered = try rig.server.stats()["unique_events"] as? Int ?? 0 >= 1
                if !delivered { usleep(5_000) }
            }
            rig.kill9()
            #expect(delivered, "round \(round): the first line never arrived; log:\n\(rig.logTail)")
            try append(Self.lines(1..<2), to: young)
            try rig.start()
            let arrived = try rig.waitForUnique(2, timeout: 10)
            usleep(600_000)
            rig.stop()
            var keys: [Int: Set<String>] = [:]
            for event in try rig.server.storedEvents() {
                guard let seq = event.properties["seq"] as? Int else { continue }
                keys[seq, default: []].insert("\(event.event)|\(event.distinctID)|\(event.timeMs)|\(event.insertID)")
            }
            let passed = arrived && keys.keys.sorted() == [0, 1] && keys.values.allSatisfy { $0.count == 1 }
            #expect(
                passed,
                "round \(round): keys by line \(keys.mapValues { $0.sorted() }); log:\n\(rig.logTail)")
            try FaultEndToEndTests.assertExactlyOnce(rig.server, expected: 0..<2)
            if !passed { break }
        }
    }

    // MARK: - The checkpoint after a crash during an outage

    /// Lines 0..<50 are delivered; then the API goes down and lines 50..<120 are appended and
    /// offered to it in vain. Well after any periodic save the agent is killed: the saved
    /// checkpoint of `app.log` is at or before line 50's offset, never past a line the API did
    /// not acknowledge. Back up and restarted, the agent delivers every line once. With the
    /// default `start_at` the file is created while the agent runs (so read from byte 0); with
    /// `beginning` it is there before the agent starts.
    @Test(arguments: StartAt.allCases)
    func checkpointSavedDuringAnOutageIsNotPastTheFirstUnacknowledgedLine(startAt: StartAt) throws {
        let (delivered, total) = (50, 120)
        let rig = try PositionsRig("pos-ckpt-\(startAt)", startAt: startAt)
        let app = rig.path("app.log")
        if startAt == .beginning { try append(Self.lines(0..<delivered), to: app) }
        try rig.start()
        if startAt == .defaultEnd {
            usleep(300_000)
            try append(Self.lines(0..<delivered), to: app)
        }
        #expect(try rig.waitForUnique(delivered), "log:\n\(rig.logTail)")

        try rig.server.setConfig(["outage": true])
        try append(Self.lines(delivered..<total), to: app)
        #expect(try eventually(timeout: 10) { try rig.outageAnswers() >= 1 }, "no 503 seen; log:\n\(rig.logTail)")
        usleep(1_600_000)
        rig.kill9()

        let text = try String(contentsOfFile: app, encoding: .utf8)
        let firstUnacknowledged = FaultEndToEndTests.lineOffsets(text)[delivered]
        let offsets = try Self.checkpointOffsets(stateDir: rig.dir + "/state", path: app)
        #expect(!offsets.isEmpty, "no checkpoint for \(app) after lines were delivered")
        for offset in offsets {
            #expect(
                offset <= firstUnacknowledged,
                "checkpoint \(offset) is past line \(delivered) at \(firstUnacknowledged), which was never acknowledged"
            )
        }

        try rig.server.setConfig(["outage": false])
        try rig.start()
        #expect(try rig.waitForUnique(total), "log:\n\(rig.logTail)")
        usleep(600_000)
        rig.stop()
        try FaultEndToEndTests.assertExactlyOnce(rig.server, expected: 0..<total)
    }

    /// The `offset` of every entry of `<stateDir>/checkpoints.json` whose `path` is `path`. Only
    /// those two keys of the top-level `checkpoints` array are read: the rest of the format may
    /// change.
    static func checkpointOffsets(stateDir: String, path: String) throws -> [UInt64] {
        let data = try Data(contentsOf: URL(fileURLWithPath: stateDir + "/checkpoints.json"))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try #require(document["checkpoints"] as? [[String: Any]], "no checkpoints array")
        return entries.filter { $0["path"] as? String == path }.compactMap { ($0["offset"] as? NSNumber)?.uint64Value }
    }

    // MARK: - A file that shrinks below its checkpoint, its head intact

    /// A file of more than 2 KiB is delivered; it is then cut back at a line boundary past its
    /// first KiB (so the bytes a fingerprint covers are unchanged) and a few lines are appended,
    /// leaving it shorter than the offset already delivered. With `restart`, the agent is
    /// stopped around the cut; otherwise it runs throughout. The new lines arrive; the surviving
    /// old ones may be sent again, but only under their original keys.
    @Test(arguments: [true, false])
    func fileShrunkBelowItsCheckpointDeliversItsNewLinesUnderStableKeys(restart: Bool) throws {
        let rig = try PositionsRig("pos-shrink-\(restart ? "restart" : "live")", startAt: .defaultEnd)
        let app = rig.path("app.log")
        try rig.start()
        usleep(300_000)
        let old = 0..<60
        let text = Self.lines(old)
        try append(text, to: app)
        #expect(try rig.waitForUnique(old.count), "log:\n\(rig.logTail)")
        let offsets = FaultEndToEndTests.lineOffsets(text)
        let size = try #require(offsets.last)
        #expect(size > 2048)
        let cut = try #require(offsets.first { $0 > 1024 })
        if restart {
            rig.stop()
        } else {
            usleep(300_000)
        }

        #expect(truncate(app, off_t(cut)) == 0)
        let new = 1000..<1010
        try append(Self.lines(new), to: app)
        let shrunk = try #require(try FileManager.default.attributesOfItem(atPath: app)[.size] as? UInt64)
        try #require(shrunk < size, "the file must end below the delivered offset \(size), not at \(shrunk)")

        if restart { try rig.start() }
        let expected = Array(old) + Array(new)
        #expect(try rig.waitForUnique(expected.count), "new lines missing; log:\n\(rig.logTail)")
        usleep(600_000)
        rig.stop()
        let unexpected = try rig.arrivedSeqs().subtracting(expected)
        #expect(unexpected.isEmpty, "lines that were not expected arrived: \(unexpected.sorted().prefix(10))")
        try FaultEndToEndTests.assertExactlyOnce(rig.server, expected: expected)
    }
}

/// One case of these tests: a temp directory with `logs/`, the local ingestion server, the
/// config, and the agent (restarted with the same log file).
final class PositionsRig {
    let dir: String
    let logs: String
    let server: IngestServer
    let configPath: String
    private(set) var agent: AgentProcess?

    init(_ name: String, startAt: PositionsEndToEndTests.StartAt) throws {
        dir = try makeTempDir(name)
        logs = dir + "/logs"
        server = try FaultEndToEndTests.server()
        configPath = dir + "/agent.yaml"
        try PositionsEndToEndTests.config(dir: dir, port: server.port, startAt: startAt)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func path(_ name: String) -> String { logs + "/" + name }

    var log: String { (try? String(contentsOfFile: dir + "/agent.log", encoding: .utf8)) ?? "" }

    var logTail: String { String(log.suffix(4000)) }

    /// How many times `text` occurs in the agent log (over every run so far).
    func occurrences(_ text: String) -> Int { log.components(separatedBy: text).count - 1 }

    /// Starts `tailship run`; returns once this run logged that it started (or 10 s passed).
    func start() throws {
        let before = occurrences("agent.started")
        agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        let started = eventually(timeout: 10) { occurrences("agent.started") > before }
        #expect(started, "the agent did not log agent.started; log:\n\(logTail)")
    }

    /// SIGTERM; expects a clean exit.
    func stop() {
        guard let agent else { return }
        #expect(agent.terminate() == 0, "log:\n\(logTail)")
        self.agent = nil
    }

    func kill9() {
        agent?.kill9()
        agent = nil
    }

    /// SIGHUP with the config unchanged; returns once the new configuration runs (the API must
    /// stay down until then, or the old one could still deliver what it read). The agent logs
    /// `agent.reloading`, then, today, `ship.started` once the new pipeline is up; a later one may
    /// say `agent.reloaded` instead. Either is waited for (12 s at most).
    func reload() throws {
        let markers = ["ship.started", "agent.reloaded", "agent.started"]
        let reloading = occurrences("agent.reloading")
        let before = markers.map(occurrences)
        agent?.signal(SIGHUP)
        #expect(eventually(timeout: 5) { occurrences("agent.reloading") > reloading }, "log:\n\(logTail)")
        _ = eventually(timeout: 12) { zip(markers, before).contains { occurrences($0) > $1 } }
        usleep(300_000)
    }

    /// Requests the server answered 503 (its outage switch).
    func outageAnswers() throws -> Int { try server.outageAnswers() }

    /// Waits until the server holds at least `count` distinct events (15 s at most).
    func waitForUnique(_ count: Int, timeout: TimeInterval = 15) throws -> Bool {
        try eventually(timeout: timeout) { try server.stats()["unique_events"] as? Int ?? 0 >= count }
    }

    /// The `seq` of every event the server holds.
    func arrivedSeqs() throws -> Set<Int> {
        Set(try server.storedEvents(dedup: true).compactMap { $0.properties["seq"] as? Int })
    }

    deinit {
        agent?.kill9()
        server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

extension IngestServer {
    /// Requests answered 503 (the outage switch, among others).
    func outageAnswers() throws -> Int {
        (try stats()["requests_by_status"] as? [String: Any])?["503"] as? Int ?? 0
    }
}
