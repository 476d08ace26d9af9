import Foundation
import Testing

/// Operator mistakes refused before they cost data: a second agent on one state directory, a
/// reload into a destination that cannot be opened, `check` on directories `run` cannot write.
@Suite(.serialized) struct FailClosedEndToEndTests {
    @Test func aSecondAgentOnTheSameStateDirectoryRefusesToStartNamingTheFirst() throws {
        let dir = try makeTempDir("e2e-lock")
        let server = try FaultEndToEndTests.server()
        let configPath = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: server.port)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        try append(FaultEndToEndTests.lines(0..<10), to: dir + "/logs/app.log")
        let first = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/first.log")
        #expect(try eventually { try server.storedEvents(dedup: true).count == 10 }, "first agent:\n\(first.log)")
        let second = try TailshipProcess.run(
            ["run", "-c", configPath], env: ["E2E_SECRET": FaultEndToEndTests.secret])
        #expect(second.status == 2)
        #expect(
            second.stderr.contains("pid \(first.process.processIdentifier)")
                && second.stderr.contains("\(dir)/state/agent.lock"), "\(second.stderr)")
        // The first goes on, undisturbed; once it is gone the directory is free again.
        try append(FaultEndToEndTests.lines(10..<20), to: dir + "/logs/app.log")
        #expect(try eventually { try server.storedEvents(dedup: true).count == 20 })
        #expect(first.terminate() == 0)
        let third = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/third.log")
        try append(FaultEndToEndTests.lines(20..<30), to: dir + "/logs/app.log")
        #expect(try eventually { try server.storedEvents(dedup: true).count == 30 }, "third agent:\n\(third.log)")
        #expect(third.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<30)
    }

    /// A reload into a config whose `kind: file` output lies in a missing directory passes the
    /// parser but could never ship: it is refused, and the running pipeline keeps going (it used
    /// to be stopped first, and the agent then exited).
    @Test func aReloadThatCannotOpenItsDestinationIsRefusedAndTheOldOneKeepsRunning() throws {
        let dir = try makeTempDir("e2e-reload-dest")
        let configPath = dir + "/agent.yaml"
        let config = { (output: String) in
            """
            state_dir: \(dir)/state
            destination: { kind: file, path: \(output), batch: { flush_interval: 100ms } }
            sources:
              - name: app
                paths: ["\(dir)/logs/*.log"]
                start_at: beginning
                rules:
                  \(FaultEndToEndTests.orderRule)
            """
        }
        let output = dir + "/events.ndjson"
        try config(output).write(toFile: configPath, atomically: true, encoding: .utf8)
        try append(FaultEndToEndTests.lines(0..<5), to: dir + "/logs/app.log")
        let agent = try AgentProcess(config: configPath, logPath: dir + "/agent.log")
        let lines = { ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n").count }
        #expect(eventually { lines() == 5 }, "agent log:\n\(agent.log)")
        try config(dir + "/missing/events.ndjson").write(toFile: configPath, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        #expect(eventually { agent.log.contains("agent.reload_refused") }, "agent log:\n\(agent.log)")
        #expect(agent.log.contains("\(dir)/missing does not exist"), "agent log:\n\(agent.log)")
        try append(FaultEndToEndTests.lines(5..<10), to: dir + "/logs/app.log")
        #expect(eventually { lines() == 10 }, "the old pipeline keeps shipping; agent log:\n\(agent.log)")
        #expect(agent.process.isRunning)
        #expect(agent.terminate() == 0)
    }

    /// `check` verifies what `run` writes into, at the key's position.
    @Test func checkRefusesDirectoriesRunCannotWrite() throws {
        let dir = try makeTempDir("e2e-check-dirs")
        // A regular file where a directory must be: unusable whoever runs the test (even root).
        try "x".write(toFile: dir + "/blocker", atomically: true, encoding: .utf8)
        let path = dir + "/agent.yaml"
        try """
        state_dir: \(dir)/blocker/state
        destination:
          kind: file
          path: \(dir)/missing/events.ndjson
        sources:
          - name: app
            paths: ["\(dir)/logs/*.log"]
            rules:
              \(FaultEndToEndTests.orderRule)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try TailshipProcess.run(["check", "-c", path])
        #expect(result.status == 1)
        #expect(
            result.stderr.split(separator: "\n").map(String.init) == [
                "\(path):1:12: state_dir cannot be used: \(dir)/blocker/state: Not a directory",
                "\(path):4:9: the output file's directory cannot be used: \(dir)/missing does not exist",
            ], "\(result.stderr)")
    }
}
