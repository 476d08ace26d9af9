import Foundation
import Testing

/// `tailship status` against the real agent: the shipper's state through an outage and refused
/// credentials, files the agent cannot open, partial last lines, rotated files, `--json`, and no
/// agent at all. The default config (`start_at: end`) throughout.
@Suite(.serialized) struct StatusEndToEndTests {
    static let secret = FaultEndToEndTests.secret

    static func writeConfig(dir: String, port: Int) throws -> String {
        let path = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: port, startAt: "")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `status` as text (its exit status checked) and `status --json` parsed.
    static func status(_ config: String) throws -> (text: String, json: [String: Any]) {
        let text = try TailshipProcess.run(["status", "-c", config])
        #expect(text.status == 0, "\(text.stderr)")
        let json = try TailshipProcess.run(["status", "-c", config, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        return (text.stdout, try #require(object, "not a JSON object: \(json.stdout)"))
    }

    static func shipperState(_ config: String) throws -> String? {
        (try status(config).json["shipper"] as? [String: Any])?["state"] as? String
    }

    static func files(_ json: [String: Any]) -> [[String: Any]] { json["files"] as? [[String: Any]] ?? [] }

    @Test func theShipperShowsRetryingThroughAnOutagePausedOnRefusedCredentialsAndOkAfter() throws {
        let dir = try makeTempDir("e2e-status-ship")
        let server = try FaultEndToEndTests.server()
        let config = try Self.writeConfig(dir: dir, port: server.port)
        let log = dir + "/logs/app.log"
        try append("", to: log)
        let agent = try AgentProcess(config: config, env: ["E2E_SECRET": Self.secret], logPath: dir + "/agent.log")
        #expect(try eventually { try Self.shipperState(config) == "ok" }, "agent log:\n\(agent.log)")
        let first = try Self.status(config)
        let pid = agent.process.processIdentifier
        #expect(first.text.hasPrefix("AGENT    running, pid \(pid), started "), "\(first.text)")
        let agentJSON = try #require(first.json["agent"] as? [String: Any])
        #expect(agentJSON["state"] as? String == "running" && agentJSON["pid"] as? Int == Int(pid))
        #expect(agentJSON["lastKnown"] as? Bool == false && agentJSON["startedMs"] as? Int64 != nil)
        try append(FaultEndToEndTests.lines(0..<10), to: log)
        #expect(try eventually { try server.storedEvents(dedup: true).count == 10 })

        // An outage: every request answers 503.
        try server.setConfig(["outage": true])
        let outageStartMs = Int64(Date().timeIntervalSince1970 * 1000)
        try append(FaultEndToEndTests.lines(10..<20), to: log)
        #expect(try eventually { try Self.shipperState(config) == "retrying" }, "agent log:\n\(agent.log)")
        var now = try Self.status(config)
        #expect(now.text.contains("\nSHIPPER  retrying since "), "\(now.text)")
        #expect(now.text.contains("(last failure: 503"), "\(now.text)")
        var shipper = try #require(now.json["shipper"] as? [String: Any])
        #expect((shipper["reason"] as? String)?.hasPrefix("503") == true, "\(shipper)")
        #expect((shipper["sinceMs"] as? Int64).map { $0 >= outageStartMs - 1000 } == true, "\(shipper)")
        try server.setConfig(["outage": false])
        #expect(
            try eventually { try server.storedEvents(dedup: true).count == 20 && Self.shipperState(config) == "ok" },
            "agent log:\n\(agent.log)")

        // Refused credentials: the server no longer takes the agent's secret.
        try server.setConfig(["sa_secret": "rotated-secret"])
        try append(FaultEndToEndTests.lines(20..<30), to: log)
        #expect(try eventually { try Self.shipperState(config) == "paused" }, "agent log:\n\(agent.log)")
        now = try Self.status(config)
        #expect(now.text.contains("\nSHIPPER  paused: credentials refused since "), "\(now.text)")
        shipper = try #require(now.json["shipper"] as? [String: Any])
        #expect((shipper["reason"] as? String)?.hasPrefix("401") == true, "\(shipper)")
        try server.setConfig(["sa_secret": Self.secret])
        #expect(
            try eventually { try server.storedEvents(dedup: true).count == 30 && Self.shipperState(config) == "ok" },
            "agent log:\n\(agent.log)")

        // Killed: the kernel drops its lock; what it published last is shown as such.
        agent.kill9()
        now = try Self.status(config)
        #expect(
            now.text.hasPrefix("AGENT    not running (the state below is the last one pid \(pid) published"),
            "\(now.text)")
        #expect(now.text.contains("\nSHIPPER  ok (last known)\n"), "\(now.text)")
        let stopped = try #require(now.json["agent"] as? [String: Any])
        #expect(stopped["state"] as? String == "not_running" && stopped["lastKnown"] as? Bool == true)
        #expect(stopped["pid"] is NSNull)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<30)
    }

    /// The test runs as root, which opens any file whatever its mode: the agent runs as `nobody`,
    /// with a state directory of its own, and a file only root may read is one it cannot open.
    @Test func aFileTheAgentCannotOpenIsListedWithItsErrorAndLoggedOnce() throws {
        let dir = try makeTempDir("e2e-status-open")
        var launcher: [String] = []
        if getuid() == 0 {
            let nobody = try #require(getpwnam("nobody"), "no user nobody")
            try FileManager.default.createDirectory(atPath: dir + "/state", withIntermediateDirectories: true)
            #expect(chown(dir + "/state", nobody.pointee.pw_uid, nobody.pointee.pw_gid) == 0)
            launcher = ["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        }
        let server = try FaultEndToEndTests.server()
        let config = try Self.writeConfig(dir: dir, port: server.port)
        let secret = dir + "/logs/secret.log"
        try append("", to: dir + "/logs/app.log")
        try append(FaultEndToEndTests.lines(100..<101), to: secret)
        #expect(chmod(secret, 0o600) == 0)
        let agent = try AgentProcess(
            config: config, env: ["E2E_SECRET": Self.secret], logPath: dir + "/agent.log", launcher: launcher)
        let unopenable = { () throws -> [[String: Any]] in
            try Self.status(config).json["unopenable"] as? [[String: Any]] ?? []
        }
        #expect(try eventually { try unopenable().count == 1 }, "agent log:\n\(agent.log)")
        let listed = try #require(try unopenable().first)
        #expect(listed["path"] as? String == secret)
        #expect((listed["error"] as? String)?.contains("Permission denied") == true, "\(listed)")
        #expect(listed["sinceMs"] as? Int64 != nil)
        let text = try Self.status(config).text
        #expect(text.contains("\nCANNOT OPEN "), "\(text)")
        #expect(
            text.split(separator: "\n").contains {
                $0.hasPrefix(secret) && $0.hasSuffix("Permission denied (errno 13)")
            },
            "\(text)")

        // The state files are the agent's user's alone (0600, docs/security.md): another user is
        // told so, and whose they are, rather than advised to move them aside.
        if !launcher.isEmpty {
            let other = try TailshipProcess.run(
                ["status", "-c", config],
                launcher: ["/usr/bin/setpriv", "--reuid=daemon", "--regid=daemon", "--clear-groups"])
            #expect(other.status == 2, "\(other.stdout)")
            #expect(
                other.stderr.contains(
                    "checkpoints.json: checkpoint file cannot be read: Permission denied (state files are the "
                        + "agent's user's alone: run this as that user or root)"), "\(other.stderr)")
        }

        // Every file created in the watched directory sets off a rescan, and each tries the file
        // again: twenty tries in three seconds, one line.
        for i in 0..<20 {
            try append("", to: dir + "/logs/trigger-\(i).txt")
            usleep(150_000)
        }
        try append(FaultEndToEndTests.lines(0..<5), to: dir + "/logs/app.log")
        #expect(try eventually { try server.storedEvents(dedup: true).count == 5 }, "agent log:\n\(agent.log)")
        #expect(agent.log.components(separatedBy: "tail.open_failed").count - 1 == 1, "agent log:\n\(agent.log)")

        // Readable again: opened at the next rescan (said once), read from its start, unlisted.
        #expect(chmod(secret, 0o644) == 0)
        try append("", to: dir + "/logs/trigger-last.txt")
        #expect(
            try eventually { try agent.log.contains("tail.open_recovered") && unopenable().isEmpty },
            "agent log:\n\(agent.log)")
        #expect(try eventually { try server.storedEvents(dedup: true).count == 6 }, "agent log:\n\(agent.log)")
        #expect(agent.log.components(separatedBy: "tail.open_failed").count - 1 == 1)
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: Array(0..<5) + [100])
    }

    @Test func aPartialLastLineIsNotStalledAndARotatedFileShowsWhereItCameFrom() throws {
        let dir = try makeTempDir("e2e-status-files")
        let server = try FaultEndToEndTests.server()
        let config = try Self.writeConfig(dir: dir, port: server.port)
        let log = dir + "/logs/app.log"
        try append("", to: log)
        let agent = try AgentProcess(config: config, env: ["E2E_SECRET": Self.secret], logPath: dir + "/agent.log")
        #expect(try eventually { try Self.shipperState(config) == "ok" }, "agent log:\n\(agent.log)")
        // A writer in the middle of a line: five lines, and the start of the sixth.
        let half = String(FaultEndToEndTests.lines(5..<6).dropLast())
        try append(FaultEndToEndTests.lines(0..<5) + half, to: log)
        #expect(try eventually { try server.storedEvents(dedup: true).count == 5 }, "agent log:\n\(agent.log)")
        let fileState = { (path: String) throws -> [String: Any]? in
            Self.files(try Self.status(config).json).first { $0["path"] as? String == path }
        }
        #expect(
            try eventually { try fileState(log)?["state"] as? String == "partial" },
            "\((try? Self.status(config).text) ?? "")")
        let partial = try #require(try fileState(log))
        #expect(partial["behind"] as? Int == half.utf8.count && partial["rotatedFrom"] is NSNull)
        let row = try Self.status(config).text.split(separator: "\n").first { $0.hasPrefix(log + " ") }
        #expect(row?.hasSuffix(" partial") == true, "\(row ?? "no row")")
        #expect(row?.contains("stalled") == false)

        // Rotated to a name the glob does not match; the new file gets two lines.
        try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
        try append(FaultEndToEndTests.lines(6..<8), to: log)
        // The old file's last line is complete once nothing can append to it: sent at its close.
        #expect(try eventually { try server.storedEvents(dedup: true).count == 8 }, "agent log:\n\(agent.log)")
        #expect(
            try eventually {
                let rotated = try fileState(log + ".1")
                let current = try fileState(log)
                return rotated?["state"] as? String == "rotated" && rotated?["rotatedFrom"] as? String == log
                    && current?["state"] as? String == "ok"
            }, "\((try? Self.status(config).text) ?? "")")
        let text = try Self.status(config).text
        #expect(
            text.split(separator: "\n").contains { $0.hasPrefix(log + ".1 ") && $0.hasSuffix(" rotated  \(log)") },
            "\(text)")
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<8)
    }

    @Test func withoutAnAgentStatusSaysSoAndPrintsEveryJSONField() throws {
        let dir = try makeTempDir("e2e-status-none")
        let config = try Self.writeConfig(dir: dir, port: 9)
        let (text, json) = try Self.status(config)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.prefix(2) == ["AGENT    not running", "SHIPPER  unknown (no agent status published)"], "\(text)")
        #expect(Set(json.keys) == ["agent", "shipper", "unopenable", "files", "deadLetters"])
        let agent = try #require(json["agent"] as? [String: Any])
        #expect(
            Set(agent.keys) == ["state", "pid", "startedMs", "publishedMs", "lastKnown", "detail", "statusError"])
        #expect(agent["state"] as? String == "not_running" && agent["lastKnown"] as? Bool == false)
        let shipper = try #require(json["shipper"] as? [String: Any])
        #expect(Set(shipper.keys) == ["state", "sinceMs", "reason"] && shipper["state"] as? String == "unknown")
        #expect((json["unopenable"] as? [Any])?.isEmpty == true && Self.files(json).isEmpty)
        let letters = try #require(json["deadLetters"] as? [String: Any])
        #expect(letters["count"] as? Int == 0 && letters["path"] as? String == dir + "/state/dead-letters.ndjson")
    }
}
