import Foundation
import Testing

/// The unit's system-call filter and socket families (docs/operations.md, "The unit's
/// sandbox") hold everything the agent does. systemd cannot run here, so the agent runs under
/// strace through a start, deliveries, a SIGHUP reload, a rotation and a stop, and `check` (the
/// unit's ExecStartPre and ExecReload) too; every system call traced must be in the filter the
/// unit declares, as systemd-analyze expands it, and every socket in its families.
@Suite(.serialized) struct UnitSandboxEndToEndTests {
    static let strace = "/usr/bin/strace"
    static let analyze = "/usr/bin/systemd-analyze"
    static var canTrace: Bool {
        FileManager.default.isExecutableFile(atPath: strace) && FileManager.default.isExecutableFile(atPath: analyze)
    }

    /// The system calls of a `SystemCallFilter=` group, its nested groups expanded.
    static func expand(_ group: String) throws -> Set<String> {
        let listing = try PackageEndToEndTests.sh([analyze, "syscall-filter", group], timeout: 20).stdout
        var calls = Set<String>()
        for line in listing.split(separator: "\n").dropFirst() {
            let item = line.trimmingCharacters(in: .whitespaces)
            if item.isEmpty || item.hasPrefix("#") { continue }
            calls.formUnion(item.hasPrefix("@") ? try expand(item) : [item])
        }
        return calls
    }

    /// The system calls and socket families in an strace -f log.
    static func traced(_ path: String) throws -> (calls: Set<String>, families: Set<String>) {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let call = try Regex(#"^\d+\s+([a-z_][a-z0-9_]*)\("#)
        let family = try Regex(#"socket\((AF_[A-Z0-9]+)"#)
        var calls = Set<String>()
        var families = Set<String>()
        for line in text.split(separator: "\n") {
            if let match = try call.firstMatch(in: line), let name = match.output[1].substring {
                calls.insert(String(name))
            }
            if let match = try family.firstMatch(in: line), let name = match.output[1].substring {
                families.insert(String(name))
            }
        }
        return (calls, families)
    }

    @Test(.enabled(if: canTrace, "needs strace and systemd-analyze"))
    func theAgentStaysInsideTheUnitsSystemCallFilterAndSocketFamilies() throws {
        let unit = try String(
            contentsOfFile: PackageEndToEndTests.repo + "/packaging/tailship.service", encoding: .utf8)
        var allowed = Set<String>()
        var denied = Set<String>()
        var families = Set<String>()
        for line in unit.split(separator: "\n") {
            if line.hasPrefix("SystemCallFilter=~") {
                for group in line.dropFirst("SystemCallFilter=~".count).split(separator: " ") {
                    denied.formUnion(try Self.expand(String(group)))
                }
            } else if line.hasPrefix("SystemCallFilter=") {
                for group in line.dropFirst("SystemCallFilter=".count).split(separator: " ") {
                    allowed.formUnion(try Self.expand(String(group)))
                }
            } else if line.hasPrefix("RestrictAddressFamilies=") {
                families.formUnion(
                    line.dropFirst("RestrictAddressFamilies=".count).split(separator: " ").map(String.init))
            }
        }
        try #require(allowed.count > 100 && !denied.isEmpty && !families.isEmpty, "the unit's filter")
        allowed.subtract(denied)

        let binary = PackageEndToEndTests.release.map { URL(fileURLWithPath: $0) } ?? TailshipProcess.binary
        let dir = try makeTempDir("e2e-sandbox")
        let server = try FaultEndToEndTests.server()
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
        let configPath = dir + "/agent.yaml"
        // With everything the unit turns on: the metrics endpoint, the notify socket and the watchdog.
        let metricsPort = try MetricsEndToEndTests.freePort()
        try
            (FaultEndToEndTests.config(dir: dir, port: server.port)
            + "\nmetrics: { listen: 127.0.0.1:\(metricsPort) }\n")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let notify = try NotifySocket(path: dir + "/notify.sock")
        let env = [
            "E2E_SECRET": FaultEndToEndTests.secret, "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000",
        ]
        let check = try SecurityStateEndToEndTests.run(
            [Self.strace, "-f", "-qq", "-o", dir + "/check.trace", binary.path, "check", "-c", configPath], env: env)
        #expect(check.status == 0, "\(check)")

        let log = dir + "/logs/app.log"
        try append(FaultEndToEndTests.lines(0..<50), to: log)
        // -D: strace runs as a grandchild, so the process started here is the agent itself and
        // signals reach it directly; strace ends with it.
        let runTrace = dir + "/run.trace"
        let agent = try AgentProcess(
            config: configPath, env: env, logPath: dir + "/agent.log", binary: binary,
            launcher: [Self.strace, "-D", "-f", "-q", "-o", runTrace])
        defer { agent.kill9() }
        #expect(eventually(timeout: 30) { (try? server.storedEvents(dedup: true).count) == 50 }, "\(agent.log)")
        #expect(try MetricsEndToEndTests.get(metricsPort, "/metrics").status == 200)
        #expect(eventually { notify.messages.contains("WATCHDOG=1") }, "\(notify.messages)")
        agent.signal(SIGHUP)
        #expect(eventually { agent.log.contains("agent.reloading") }, "\(agent.log)")
        #expect(rename(log, log + ".1") == 0)
        try append(FaultEndToEndTests.lines(50..<100), to: log)
        #expect(eventually(timeout: 30) { (try? server.storedEvents(dedup: true).count) == 100 }, "\(agent.log)")
        #expect(agent.terminate() == 0)
        #expect(agent.log.contains("agent.stopped"), "\(agent.log)")
        let pid = "\(agent.process.processIdentifier)"
        #expect(
            eventually {
                ((try? String(contentsOfFile: runTrace, encoding: .utf8)) ?? "").split(separator: "\n").contains {
                    $0.hasPrefix(pid + " ") && $0.hasSuffix("+++ exited with 0 +++")
                }
            }, "strace saw the agent exit")

        let run = try Self.traced(dir + "/run.trace")
        let checked = try Self.traced(dir + "/check.trace")
        #expect(run.calls.count > 20, "strace saw the agent")
        let outside = run.calls.union(checked.calls).subtracting(allowed).sorted()
        #expect(outside.isEmpty, "system calls outside the unit's SystemCallFilter: \(outside)")
        let foreign = run.families.union(checked.families).subtracting(families).sorted()
        #expect(foreign.isEmpty, "socket families outside RestrictAddressFamilies: \(foreign)")
    }
}
