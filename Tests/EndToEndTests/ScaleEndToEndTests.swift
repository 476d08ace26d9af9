import Foundation
import Synchronization
import Testing

/// The built binary with 1,000 files in one directory: every line arrives exactly once, and the
/// agent's open descriptors stay within `max_open_files` plus its own handful throughout.
@Suite(.serialized) struct ScaleEndToEndTests {
    static let files = 1_000
    static let bound = 100
    /// `TailLoop.burstWave`: new files of a burst held open together beyond the bound.
    static let wave = 32
    /// The agent's own descriptors besides log files: stdio, inotify, wakeup pipe, sockets,
    /// state files, and one file being read while a burst is parked.
    static let allowance = 40

    static func config(dir: String, port: Int, sourceOption: String = "max_open_files: \(bound)") -> String {
        """
        state_dir: \(dir)/state
        destination:
          url: http://127.0.0.1:\(port)
          project_id: "42"
          auth: { username: e2e.sa, secret_env: E2E_SECRET }
          batch: { max_events: 1000, flush_interval: 100ms }
          retry: { initial_backoff: 100ms, max_backoff: 1s }
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            start_at: beginning
            \(sourceOption)
            rules:
              \(FaultEndToEndTests.orderRule)
        """
    }

    /// Counts `/proc/<pid>/fd` every few milliseconds on a thread of its own; keeps the peak of
    /// all descriptors and of those open on files under `logs`.
    final class DescriptorSampler: Sendable {
        private let pid: Int32
        private let peakCount = Atomic<Int>(0)
        private let peakLogs = Atomic<Int>(0)
        private let samples = Atomic<Int>(0)
        private let stopping = Atomic<Bool>(false)
        private let done = DispatchSemaphore(value: 0)

        init(pid: Int32, logs: String) {
            self.pid = pid
            let thread = Thread { [self] in
                while !stopping.load(ordering: .acquiring) {
                    if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") {
                        peakCount.max(entries.count, ordering: .relaxed)
                        let onLogs = entries.filter {
                            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)"))?
                                .hasPrefix(logs) == true
                        }
                        peakLogs.max(onLogs.count, ordering: .relaxed)
                        samples.add(1, ordering: .relaxed)
                    }
                    usleep(5_000)
                }
                done.signal()
            }
            thread.start()
        }

        /// Stops sampling; returns the peak descriptor counts and the number of samples.
        func stop() -> (peak: Int, peakOnLogs: Int, samples: Int) {
            stopping.store(true, ordering: .releasing)
            done.wait()
            return (
                peakCount.load(ordering: .relaxed), peakLogs.load(ordering: .relaxed), samples.load(ordering: .relaxed)
            )
        }
    }

    /// `poll_interval` (for NFS-like mounts): the files are found and read by polling.
    @Test func aPolledSourceDeliversEveryLineOnce() throws {
        let dir = try makeTempDir("e2e-poll")
        let server = try FaultEndToEndTests.server()
        try Self.config(dir: dir, port: server.port, sourceOption: "poll_interval: 200ms")
            .write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
        try append(FaultEndToEndTests.lines(0..<100), to: dir + "/logs/a.log")
        let agent = try AgentProcess(
            config: dir + "/agent.yaml", env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        defer { agent.terminate() }
        #expect(eventually(timeout: 10) { agent.log.contains("agent.started") })
        try append(FaultEndToEndTests.lines(100..<200), to: dir + "/logs/a.log")
        try append(FaultEndToEndTests.lines(200..<300), to: dir + "/logs/b.log")
        let arrived = try eventually(timeout: 10) { try server.storedEvents(dedup: true).count >= 300 }
        #expect(arrived, "agent log:\n\(agent.log.suffix(3000))")
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<300)
    }

    @Test func thousandFilesInTwoRoundsArriveOnceWithBoundedDescriptors() throws {
        let dir = try makeTempDir("e2e-scale")
        let server = try FaultEndToEndTests.server()
        try Self.config(dir: dir, port: server.port).write(
            toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
        let agent = try AgentProcess(
            config: dir + "/agent.yaml", env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        defer { agent.terminate() }
        // Up and watching before the files appear (an empty directory has nothing to sight).
        #expect(eventually(timeout: 10) { agent.log.contains("agent.started") })
        usleep(300_000)
        let sampler = DescriptorSampler(pid: agent.process.processIdentifier, logs: dir + "/logs/")
        // Round one: 1,000 new files of 3 lines each (seq 0..<3000).
        let perFirst = 3
        let perSecond = 2
        for file in 0..<Self.files {
            let seqs = (file * perFirst)..<(file * perFirst + perFirst)
            try append(FaultEndToEndTests.lines(seqs), to: dir + "/logs/f\(file).log")
        }
        let firstTotal = Self.files * perFirst
        let firstArrived = try eventually(timeout: 15) { try server.storedEvents(dedup: true).count >= firstTotal }
        #expect(firstArrived, "round one: agent log tail:\n\(agent.log.suffix(3000))")
        // Round two: 2 more lines in each (most files are closed by now and must be reopened).
        for file in 0..<Self.files {
            let start = firstTotal + file * perSecond
            try append(FaultEndToEndTests.lines(start..<(start + perSecond)), to: dir + "/logs/f\(file).log")
        }
        let total = firstTotal + Self.files * perSecond
        let arrived = try eventually(timeout: 15) { try server.storedEvents(dedup: true).count >= total }
        #expect(arrived, "round two: agent log tail:\n\(agent.log.suffix(3000))")
        let (peak, peakOnLogs, samples) = sampler.stop()
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<total)
        print(
            "scale e2e: peak \(peak) descriptors (\(peakOnLogs) on log files) over \(samples) samples, bound \(Self.bound)"
        )
        #expect(samples > 50, "the descriptor count was sampled throughout")
        #expect(
            peak <= Self.bound + Self.wave + Self.allowance,
            "peak \(peak) open descriptors for max_open_files \(Self.bound)")
        // The tailer's own share: the bound, plus one wave of a burst (established and kept open
        // until one save covers their positions, then read and closed one by one).
        #expect(
            peakOnLogs <= Self.bound + Self.wave, "peak \(peakOnLogs) log files open for max_open_files \(Self.bound)")
    }
}
