import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Rotation conformance, part four: the seeded random sequence of `RotationRandomizedTests`, but
/// the agent is stopped (SIGTERM) or killed (SIGKILL) at random moments without being made to
/// catch up first, for both `start_at` values. Durable positions (PRODUCT.md, Delivery) make
/// that safe: from the moment the agent first sees a file, a stop or crash at any instant
/// resumes at or before the first line not yet acknowledged, and a line read again carries the
/// identical `$insert_id`.
///
/// The model keeps two sets. `must`: lines that must arrive. `may`: lines that may be lost,
/// because their bytes were destroyed while no agent could read them, or because the agent was
/// entitled to skip them:
/// - lines written to `app.log` since the agent last caught up, when `app.log` is then truncated
///   (or copytruncated) or deleted while the agent is stopped (they may or may not have been
///   read before the stop);
/// - lines of a file deleted while the agent runs (drained through its descriptor), when the
///   agent is stopped before it caught up again;
/// - with the default `start_at: end`, what a file held when the agent started if it had never
///   seen that file before: `app.log` created (or truncated and rewritten, which cannot be told
///   from a new file on the same inode) while the agent was stopped, and such a file renamed to
///   `app.log.<k>` while it was still stopped.
///
/// Every `must` line arrives, nothing outside `must ∪ may` arrives, and no line arrives under two
/// keys. The agent is made to catch up (on `must`) before a truncation or deletion while it
/// runs, as in part three; after creating or truncating `app.log` while it runs the test waits
/// 300 ms so that the agent has seen the file. `TAILSHIP_ROTATION_SEED` replays a run.
@Suite(.serialized) struct RotationRandomizedRestartTests {
    typealias StartAt = PositionsEndToEndTests.StartAt

    /// One log file of the model: the lines it holds now, and whether the agent has seen it.
    final class ModelFile {
        var lines: [Int] = []
        var sighted: Bool

        init(sighted: Bool) { self.sighted = sighted }
    }

    @Test(arguments: StartAt.allCases)
    func seededSequenceWithRestartsThatDoNotCatchUp(startAt: StartAt) throws {
        let seed =
            ProcessInfo.processInfo.environment["TAILSHIP_ROTATION_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 1...UInt64(UInt32.max))
        print(
            "RotationRandomizedRestartTests(\(startAt)) seed: \(seed) (TAILSHIP_ROTATION_SEED=\(seed) replays it)")
        var rng = RotationRandomizedTests.SplitMix64(state: seed)
        let rig = try RotationRig(
            "random-restarts-\(startAt)", paths: ["app.log*"], startAt: startAt == .beginning ? "beginning" : nil)
        let livePath = rig.path("app.log")
        let arrivals = Arrivals(rig.server)
        var must = Set<Int>()
        var may = Set<Int>()
        var next = 0
        var running = false
        var rotations = 0
        var live: ModelFile?
        var renamed: [ModelFile] = []
        // Lines written to the live file since the agent last caught up.
        var atRisk: [Int] = []
        // Lines of files deleted while the agent ran, written since it last caught up.
        var inDeleted: [Int] = []
        var trace: [String] = []
        // Every catch-up succeeded (else the run stopped there, and the final wait is short).
        var healthy = true

        func lose(_ lines: [Int]) {
            must.subtract(lines)
            may.formUnion(lines)
        }
        /// Waits until every `must` line arrived; false (recorded) when it did not in 15 s.
        func catchUp() throws -> Bool {
            let caught = try eventually(timeout: 15) {
                try arrivals.refresh()
                return must.isSubset(of: arrivals.seqs)
            }
            atRisk.removeAll()
            inDeleted.removeAll()
            healthy = healthy && caught
            if !caught {
                let missing = must.subtracting(arrivals.seqs)
                let steps = trace.joined(separator: ", ")
                let example = missing.sorted().prefix(10)
                Issue.record(
                    "seed \(seed), \(startAt): no catch-up after \(steps): \(missing.count) lines missing, e.g. \(example)"
                )
                Issue.record("agent log tail:\n\(rig.log.suffix(4000))")
            }
            return caught
        }
        /// Starts the agent. With `end`, what the files it never saw hold now is skipped.
        func start() throws {
            for file in [live].compactMap({ $0 }) + renamed where !file.sighted {
                if startAt == .defaultEnd { lose(file.lines) }
                file.sighted = true
            }
            let before = rig.log.components(separatedBy: "agent.started").count
            try rig.startAgent()
            // Files present now are sighted by the first scan, which this waits for.
            _ = eventually(timeout: 10) { rig.log.components(separatedBy: "agent.started").count > before }
        }

        try start()
        running = true
        steps: for _ in 0..<40 {
            let step = RotationRandomizedTests.pick(&rng)
            switch step {
            case .write:
                let count = Int.random(in: 1...1_000, using: &rng)
                let file = live ?? ModelFile(sighted: running)
                let created = live == nil
                live = file
                try append(LineWriter.lines(next..<next + count), to: livePath)
                must.formUnion(next..<next + count)
                file.lines.append(contentsOf: next..<next + count)
                atRisk.append(contentsOf: next..<next + count)
                next += count
                trace.append("write \(count)\(created ? " (new file)" : "")")
                // A file that appears while the agent runs is seen (read from byte 0) within this.
                if running && created { usleep(300_000) }
            case .rename:
                guard let file = live else { continue }
                rotations += 1
                #expect(rename(livePath, rig.path("app.log.\(rotations)")) == 0)
                renamed.append(file)
                live = nil
                atRisk.removeAll()  // still matched, never destroyed: found by identity
                trace.append("rename -> app.log.\(rotations)")
            case .copytruncate, .truncate:
                guard let file = live else { continue }
                if running { guard try catchUp() else { break steps } }
                if step == .copytruncate {
                    rotations += 1
                    try FileManager.default.copyItem(atPath: livePath, toPath: rig.path("copy.\(rotations)"))
                }
                #expect(truncate(livePath, 0) == 0)
                lose(atRisk)
                atRisk.removeAll()
                file.lines.removeAll()
                if running {
                    usleep(300_000)  // the agent has seen the truncation
                } else if startAt == .defaultEnd {
                    file.sighted = false  // what is written next cannot be told from a new file
                }
                trace.append(step.rawValue)
            case .delete:
                guard live != nil else { continue }
                if running {
                    // Drained through the open descriptor, unless the agent stops first.
                    guard try catchUp() else { break steps }
                    let count = Int.random(in: 1...1_000, using: &rng)
                    try append(LineWriter.lines(next..<next + count), to: livePath)
                    must.formUnion(next..<next + count)
                    inDeleted.append(contentsOf: next..<next + count)
                    next += count
                }
                #expect(unlink(livePath) == 0)
                lose(atRisk)
                atRisk.removeAll()
                live = nil
                trace.append("delete")
            case .restart:
                if running {
                    if Bool.random(using: &rng) {
                        rig.killAgent()
                        trace.append("kill -9")
                    } else {
                        rig.stopAgent()
                        trace.append("stop")
                    }
                    lose(inDeleted)
                    inDeleted.removeAll()
                } else {
                    try start()
                    trace.append("start")
                }
                running.toggle()
            }
            if running { usleep(UInt32.random(in: 0..<80_000, using: &rng)) }
        }
        if !running { try start() }
        print(
            "RotationRandomizedRestartTests(\(startAt)) seed \(seed): \(trace.joined(separator: ", ")); "
                + "\(must.count) lines must arrive, \(may.count) may")

        let arrived = try eventually(timeout: healthy ? 20 : 3) {
            try arrivals.refresh()
            return must.isSubset(of: arrivals.seqs)
        }
        usleep(600_000)
        rig.stopAgent()
        try arrivals.refresh()
        let missing = must.subtracting(arrivals.seqs)
        let unexpected = arrivals.seqs.subtracting(must).subtracting(may)
        #expect(
            missing.isEmpty && arrived,
            "seed \(seed), \(startAt): \(missing.count) lines missing, e.g. \(missing.sorted().prefix(10))")
        let extra = unexpected.sorted().prefix(10)
        #expect(
            unexpected.isEmpty,
            "seed \(seed), \(startAt): \(unexpected.count) lines arrived that were to be skipped, e.g. \(extra)")
        let twoKeys = arrivals.underTwoKeys.sorted()
        #expect(
            twoKeys.isEmpty,
            "seed \(seed), \(startAt): \(twoKeys.count) lines arrived under two keys, e.g. \(twoKeys.prefix(10))")
        if !(missing.isEmpty && unexpected.isEmpty && arrivals.underTwoKeys.isEmpty) {
            Issue.record("seed \(seed), \(startAt): agent log tail:\n\(rig.log.suffix(6000))")
        }
    }
}

/// Every copy of every event the server accepted, fetched incrementally (only what arrived since
/// the last `refresh`), by line `seq`.
final class Arrivals {
    let server: IngestServer
    private var fetched = 0
    /// The (event, distinct_id, time, `$insert_id`) key of each line's first copy.
    private(set) var keyBySeq: [Int: String] = [:]
    /// Lines with a copy under a key other than their first copy's.
    private(set) var underTwoKeys: Set<Int> = []

    init(_ server: IngestServer) { self.server = server }

    var seqs: Set<Int> { Set(keyBySeq.keys) }

    func refresh() throws {
        let response = try server.request("GET", "/_control/events?offset=\(fetched)")
        guard response.status == 200, let rows = try response.json() as? [[String: Any]] else {
            throw IngestServer.Failure.badResponse("events: \(response.status) \(response.text.prefix(200))")
        }
        for row in rows {
            let event = try IngestServer.StoredEvent(row)
            guard let seq = event.properties["seq"] as? Int else {
                throw IngestServer.Failure.badResponse("event without seq: \(row)")
            }
            let key = "\(event.event)|\(event.distinctID)|\(event.timeMs)|\(event.insertID)"
            if let first = keyBySeq[seq] {
                if first != key { underTwoKeys.insert(seq) }
            } else {
                keyBySeq[seq] = key
            }
        }
        fetched += rows.count
    }
}
