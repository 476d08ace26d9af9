import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Rotation conformance, part three: a seeded random sequence of writes, renames, copytruncates,
/// truncations, deletions and restarts, checked against a model of which lines must arrive.
///
/// The source follows `app.log*` (renamed files `app.log.<k>` stay matched and are found by
/// identity after a restart); copytruncate copies go to `copy.<k>`, which is not matched. The
/// model drops exactly the lines no tailer can read: those still unread when their bytes are
/// destroyed. To keep that set known, the agent is made to catch up before each truncation
/// while it runs and before each stop, so only lines written while it is stopped to a file that
/// is then truncated or deleted are lost. Set `TAILSHIP_ROTATION_SEED` to replay a run.
@Suite(.serialized) struct RotationRandomizedTests {
    /// SplitMix64: small, seedable, the same sequence on every platform.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    enum Step: String, CaseIterable {
        case write, rename, copytruncate, truncate, delete, restart
    }

    static func pick(_ rng: inout SplitMix64) -> Step {
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<40: .write
        case 40..<55: .rename
        case 55..<65: .copytruncate
        case 65..<75: .truncate
        case 75..<87: .delete
        default: .restart
        }
    }

    @Test func seededSequenceAgainstTheModel() throws {
        let seed =
            ProcessInfo.processInfo.environment["TAILSHIP_ROTATION_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 1...UInt64(UInt32.max))
        print("RotationRandomizedTests seed: \(seed) (TAILSHIP_ROTATION_SEED=\(seed) replays it)")
        var rng = SplitMix64(state: seed)
        let rig = try RotationRig("random", paths: ["app.log*"])
        let live = rig.path("app.log")
        var expected = Set<Int>()
        var next = 0
        var running = false
        var rotations = 0
        // Lines written to the live file while the agent is stopped: lost if it is truncated
        // or deleted before the agent starts again.
        var unreadWhileStopped: [Int] = []
        var trace: [String] = []

        try rig.startAgent()
        running = true
        for _ in 0..<40 {
            let step = Self.pick(&rng)
            switch step {
            case .write:
                let count = Int.random(in: 1...2_000, using: &rng)
                try append(LineWriter.lines(next..<next + count), to: live)
                expected.formUnion(next..<next + count)
                if !running { unreadWhileStopped.append(contentsOf: next..<next + count) }
                next += count
                trace.append("write \(count)")
            case .rename:
                guard FileManager.default.fileExists(atPath: live) else { continue }
                rotations += 1
                #expect(rename(live, rig.path("app.log.\(rotations)")) == 0)
                unreadWhileStopped.removeAll()  // still matched: found by identity on start
                trace.append("rename -> app.log.\(rotations)")
            case .copytruncate, .truncate:
                guard FileManager.default.fileExists(atPath: live) else { continue }
                if running { try rig.waitForCatchUp(expected.count) }
                if step == .copytruncate {
                    rotations += 1
                    try FileManager.default.copyItem(atPath: live, toPath: rig.path("copy.\(rotations)"))
                }
                #expect(truncate(live, 0) == 0)
                expected.subtract(unreadWhileStopped)
                unreadWhileStopped.removeAll()
                trace.append(step.rawValue)
            case .delete:
                guard FileManager.default.fileExists(atPath: live) else { continue }
                // Running: drained through the open descriptor, once the agent has sighted the
                // file (a file deleted before anyone opened it cannot be read).
                if running {
                    try rig.waitForCatchUp(expected.count)
                    let count = Int.random(in: 1...2_000, using: &rng)
                    try append(LineWriter.lines(next..<next + count), to: live)
                    expected.formUnion(next..<next + count)
                    next += count
                }
                #expect(unlink(live) == 0)
                expected.subtract(unreadWhileStopped)
                unreadWhileStopped.removeAll()
                trace.append("delete")
            case .restart:
                if running {
                    try rig.waitForCatchUp(expected.count)
                    rig.stopAgent()
                } else {
                    try rig.startAgent()
                    unreadWhileStopped.removeAll()
                }
                running.toggle()
                trace.append(running ? "start" : "stop")
            }
            if running { usleep(UInt32.random(in: 0..<80_000, using: &rng)) }
        }
        if !running { try rig.startAgent() }
        print("RotationRandomizedTests seed \(seed): \(trace.joined(separator: ", "))")
        try rig.assertExactly(expected, timeout: 20)
    }
}
