import Foundation
import Testing

/// The agent's threads carry their names in the kernel (`/proc/PID/task/*/comm`): that is how
/// scripts/bench.sh splits the agent's CPU between stages (docs/benchmarks.md), and what
/// `top -H` and `perf` show an operator.
@Suite(.serialized) struct ThreadNamesEndToEndTests {
    static func threadNames(_ pid: Int32) -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap { tid in
            (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .newlines)
        }.sorted()
    }

    @Test func everyThreadTheAgentStartsIsNamed() throws {
        let dir = try makeTempDir("e2e-thread-names")
        let server = try FaultEndToEndTests.server()
        let port = try MetricsEndToEndTests.freePort()
        let config = try MetricsEndToEndTests.writeConfig(dir: dir, apiPort: server.port, metricsPort: port)
        try append("", to: dir + "/logs/app.log")
        let agent = try AgentProcess(
            config: config, env: ["E2E_SECRET": MetricsEndToEndTests.secret], logPath: dir + "/agent.log")
        defer { agent.terminate() }
        #expect(eventually { MetricsEndToEndTests.healthz(port)?.0 == 200 }, "agent log:\n\(agent.log)")
        // The config gzips (the default), so one thread compresses.
        let want = [
            "tailship", "tailship-batch", "tailship-ckpt", "tailship-gzip", "tailship-metric", "tailship-ship",
            "tailship-tail",
        ]
        // Only the main thread keeps the process's name; each other thread names itself as it starts.
        #expect(eventually { Self.threadNames(agent.process.processIdentifier) == want })
        #expect(Self.threadNames(agent.process.processIdentifier) == want)
    }
}
