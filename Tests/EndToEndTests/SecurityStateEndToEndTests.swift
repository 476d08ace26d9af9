import Foundation
import Testing

/// Issue 9's attacks on the state directory and the secrets, with the real binary as root and
/// the attacker as `nobody` (`setpriv`): docs/security.md, "State directory and secrets".
@Suite(.serialized) struct SecurityStateEndToEndTests {
    static let setpriv = "/usr/bin/setpriv"
    static let asNobody = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    static let nobody: uid_t = 65534

    /// Whether the attacker can be played here (root, with setpriv).
    static var canSwitchUser: Bool { geteuid() == 0 && FileManager.default.isExecutableFile(atPath: setpriv) }

    /// Runs `arguments[0]` with the rest; kills it after `timeout` (then `timedOut` is true).
    static func run(_ arguments: [String], timeout: TimeInterval = 20, env: [String: String] = [:]) throws -> (
        status: Int32, stdout: String, stderr: String, timedOut: Bool
    ) {
        let process = Process()
        process.environment = ProcessInfo.processInfo.environment.merging(env) { _, new in new }
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let dir = try makeTempDir("e2e-sec-run")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/out", contents: nil)
        _ = FileManager.default.createFile(atPath: dir + "/err", contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/err"))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        let timedOut = process.isRunning
        if timedOut { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return (
            process.terminationStatus, try String(contentsOfFile: dir + "/out", encoding: .utf8),
            try String(contentsOfFile: dir + "/err", encoding: .utf8), timedOut
        )
    }

    static func tailship(_ arguments: [String], timeout: TimeInterval = 20, env: [String: String] = [:]) throws -> (
        status: Int32, stdout: String, stderr: String, timedOut: Bool
    ) {
        try run([TailshipProcess.binary.path] + arguments, timeout: timeout, env: env)
    }

    static func owner(_ path: String) -> uid_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_uid : nil
    }

    /// A state directory others can write (or another user owns): `check` and `run` refuse it
    /// at `state_dir`, naming the fix, and `run` writes nothing there.
    @Test(.enabled(if: canSwitchUser)) func aStateDirectoryOthersCanWriteIsRefusedByCheckAndRun() throws {
        let dir = try makeTempDir("e2e-sec-statedir")
        let state = dir + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        chmod(state, 0o777)
        let configPath = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: 9).write(toFile: configPath, atomically: true, encoding: .utf8)
        // The attack this prevents: nobody can plant entries in a world-writable directory.
        let planted = try Self.run(Self.asNobody + ["/usr/bin/ln", "-s", dir + "/victim.conf", state + "/x"])
        #expect(planted.status == 0, "\(planted.stderr)")
        let expected =
            "\(configPath):1:12: state_dir is not safe: \(state) is writable by group or others (mode 777): they "
            + "could plant links or replace checkpoints; chmod go-w \(state) (0700 recommended)"

        let check = try Self.tailship(["check", "-c", configPath], timeout: 20, env: ["E2E_SECRET": "s"])
        #expect(check.status == 1)
        #expect(check.stderr.contains(expected), "\(check.stderr)")
        let run = try Self.tailship(["run", "-c", configPath], timeout: 20, env: ["E2E_SECRET": "s"])
        #expect(!run.timedOut && run.status == 1, "\(run)")
        #expect(run.stderr.contains(expected), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state + "/agent.lock"), "run wrote into it")
        try append(FaultEndToEndTests.lines(0..<3), to: dir + "/logs/app.log")
        let imported = try Self.tailship(["import", "-c", configPath, dir + "/logs/app.log"], env: ["E2E_SECRET": "s"])
        #expect(imported.status == 1 && imported.stderr.contains(expected), "\(imported)")
        #expect(!FileManager.default.fileExists(atPath: state + "/import-checkpoints.json"))

        // Owned by another user, even 0700: refused too, naming chown.
        chmod(state, 0o700)
        chown(state, Self.nobody, Self.nobody)
        let owned = try Self.tailship(["run", "-c", configPath], timeout: 20, env: ["E2E_SECRET": "s"])
        #expect(owned.status == 1 && owned.stderr.contains("is owned by uid 65534"), "\(owned)")
        #expect(owned.stderr.contains("chown 0 \(state)"), "\(owned.stderr)")

        // 0755 and ours: accepted, as a state directory of an earlier release is.
        chown(state, 0, 0)
        chmod(state, 0o755)
        unlink(state + "/x")
        let fine = try Self.tailship(["check", "-c", configPath], timeout: 20, env: ["E2E_SECRET": "s"])
        #expect(fine.status == 0 && fine.stdout == "ok\n", "\(fine)")

        // A reload onto a directory that became writable by others is refused; the agent keeps going.
        let agent = try AgentProcess(config: configPath, env: ["E2E_SECRET": "s"], logPath: dir + "/agent.log")
        defer { agent.terminate() }
        #expect(eventually { agent.log.contains("agent.started") }, "\(agent.log)")
        chmod(state, 0o777)
        agent.signal(SIGHUP)
        #expect(eventually { agent.log.contains("agent.reload_refused") }, "\(agent.log)")
        #expect(agent.log.contains("state_dir is not safe"), "\(agent.log)")
        #expect(agent.process.isRunning)
        chmod(state, 0o700)
        #expect(agent.terminate() == 0)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// The shipped unit carries the hardening docs/security.md names, and systemd accepts it.
    @Test func theUnitCarriesTheHardening() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let unit = try String(contentsOf: repo.appendingPathComponent("packaging/tailship.service"), encoding: .utf8)
        let lines = Set(unit.split(separator: "\n").map(String.init))
        for directive in [
            "UMask=0077", "StateDirectory=tailship", "StateDirectoryMode=0700", "LimitCORE=0",
            "LoadCredential=mixpanel-secret:/etc/tailship/secret", "SupplementaryGroups=tailship-logs",
            "User=tailship", "Group=tailship",
        ] {
            #expect(lines.contains(directive), "missing \(directive)")
        }
        #expect(lines.isDisjoint(with: ["Group=adm", "SupplementaryGroups=adm"]), "no longer all of group adm")
        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else { return }
        let dir = try makeTempDir("e2e-sec-unit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let copy = dir + "/tailship.service"
        try unit.replacingOccurrences(of: "/usr/bin/tailship", with: TailshipProcess.binary.path)
            .write(toFile: copy, atomically: true, encoding: .utf8)
        // --man=no: the man page the unit names is installed by the package (PackageEndToEndTests
        // verifies the installed unit with it).
        let verify = try Self.run([analyze, "verify", "--man=no", copy])
        #expect(verify.status == 0 && verify.stderr.isEmpty, "\(verify)")
    }

    /// Links left in the state directory (planted before the start, modelling an earlier
    /// compromise or a directory that was writable): the agent never writes or reads through
    /// them, still delivers and checkpoints, and `status` answers at once.
    @Test(.enabled(if: canSwitchUser)) func plantedLinksChangeNothingOutsideTheStateDirectory() throws {
        let dir = try makeTempDir("e2e-sec-links")
        let server = try FaultEndToEndTests.server()
        let state = dir + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        chmod(state, 0o700)
        let victim = dir + "/victim.conf"
        let other = dir + "/other.conf"
        for path in [victim, other] { try "precious\n".write(toFile: path, atomically: true, encoding: .utf8) }
        symlink(victim, state + "/checkpoints.json.tmp")
        symlink("/dev/zero", state + "/dead-letters.ndjson.1")
        symlink(other, state + "/dead-letters.ndjson.2")
        let configPath = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: server.port)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let log = dir + "/logs/app.log"
        var text = ""
        for seq in 0..<60 {
            text +=
                DiskFullEndToEndTests.isBad(seq)
                ? DiskFullEndToEndTests.badLine(seq) : FaultEndToEndTests.lines(seq..<seq + 1)
        }
        try append(text, to: log)
        let bad = (0..<60).filter(DiskFullEndToEndTests.isBad).count
        var agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        #expect(try eventually { try server.storedEvents(dedup: true).count == 60 - bad }, "\(agent.log)")
        let size = try FileManager.default.attributesOfItem(atPath: log)[.size] as! UInt64
        let checkpointed = eventually {
            ((try? String(contentsOfFile: state + "/checkpoints.json", encoding: .utf8)) ?? "")
                .contains("\"offset\" : \(size)")
        }
        #expect(checkpointed, "agent log:\n\(agent.log)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(try String(contentsOfFile: other, encoding: .utf8) == "precious\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: state + "/checkpoints.json")
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        // `status` with dead-letters.ndjson.1 → /dev/zero: prompt, and it counts only real letters.
        let status = try Self.tailship(["status", "-c", configPath], timeout: 10)
        #expect(!status.timedOut && status.status == 0, "\(status)")
        #expect(status.stdout.contains("DEAD LETTERS  \(bad)  "), "\(status.stdout)")
        #expect(agent.terminate() == 0)

        // The live dead-letter file itself a link: the letter is not written through it (the
        // checkpoint holds before the bad line, the error is logged), the agent keeps running.
        try FileManager.default.removeItem(atPath: state + "/dead-letters.ndjson")
        symlink(other, state + "/dead-letters.ndjson")
        agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        defer { agent.terminate() }
        try append(DiskFullEndToEndTests.badLine(100) + FaultEndToEndTests.lines(101..<110), to: log)
        #expect(try eventually { try server.storedEvents(dedup: true).count == 60 - bad + 9 }, "\(agent.log)")
        #expect(
            eventually { agent.log.contains("checkpoint.dead_letters_not_written") }, "\(agent.log.suffix(3000))")
        #expect(agent.log.contains("Too many levels of symbolic links"), "\(agent.log.suffix(3000))")
        #expect(agent.process.isRunning)
        #expect(try String(contentsOfFile: other, encoding: .utf8) == "precious\n")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(agent.terminate() == 0)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// `secret_file` mode 0644: refused by `check` at its position with the fix, and by `run`;
    /// a configuration anyone can write: `check` warns and still succeeds.
    @Test func anExposedSecretIsRefusedAndAWritableConfigWarned() throws {
        let dir = try makeTempDir("e2e-sec-secret")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secret = dir + "/secret"
        try writeSecret("s3cr3t-value\n", to: secret)
        chmod(secret, 0o644)
        let configPath = dir + "/agent.yaml"
        let text = FaultEndToEndTests.config(dir: dir, port: 9, auth: "secret_file: \(secret)")
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let lineIndex = try #require(lines.firstIndex { $0.contains("secret_file") })
        let column = try #require(lines[lineIndex].range(of: secret)).lowerBound.utf16Offset(in: lines[lineIndex]) + 1
        let expected =
            "\(configPath):\(lineIndex + 1):\(column): secret file '\(secret)' is readable or writable by group or "
            + "others (mode 644); chmod 600 \(secret)"

        let check = try Self.tailship(["check", "-c", configPath])
        #expect(check.status == 1)
        #expect(check.stderr.contains(expected), "\(check.stderr)")
        #expect(!check.stderr.contains("s3cr3t"))
        #expect(!check.stderr.contains("warning"), "the config is 0644")
        chmod(configPath, 0o666)
        let both = try Self.tailship(["check", "-c", configPath])
        #expect(both.status == 1 && both.stderr.contains(expected), "\(both)")
        #expect(both.stderr.contains("writable by group or others (mode 666)"), "warned even when invalid: \(both)")
        chmod(configPath, 0o644)
        let run = try Self.tailship(["run", "-c", configPath])
        #expect(!run.timedOut && run.status == 1 && run.stderr.contains(expected), "\(run)")

        chmod(secret, 0o600)
        chmod(configPath, 0o666)
        let warned = try Self.tailship(["check", "-c", configPath])
        #expect(warned.status == 0 && warned.stdout == "ok\n", "\(warned)")
        #expect(
            warned.stderr.contains(
                "\(configPath): warning: the configuration is writable by group or others (mode 666)"),
            "\(warned.stderr)")
        #expect(warned.stderr.contains("chmod go-w \(configPath)"))
        chmod(configPath, 0o644)
        let quiet = try Self.tailship(["check", "-c", configPath])
        #expect(quiet.status == 0 && !quiet.stderr.contains("writable by group"), "\(quiet)")
    }

    /// The agent (run as `nobody`, so the kernel's rule is visible) is not dumpable: the files
    /// in /proc/PID of a non-dumpable process belong to root (proc(5)), while a plain process
    /// of the same user owns its own. So no core file, and no same-user ptrace or /proc/PID/mem.
    @Test(.enabled(if: canSwitchUser)) func theAgentIsNotDumpable() throws {
        let dir = try makeTempDir("e2e-sec-dump")
        let server = try FaultEndToEndTests.server()
        chmod(dir, 0o755)
        let state = dir + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        chmod(state, 0o700)
        chown(state, Self.nobody, Self.nobody)
        let configPath = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: server.port)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        try append(FaultEndToEndTests.lines(0..<10), to: dir + "/logs/app.log")
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log",
            launcher: Self.asNobody)
        defer { agent.terminate() }
        #expect(try eventually { try server.storedEvents(dedup: true).count == 10 }, "\(agent.log)")
        let pid = agent.process.processIdentifier
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        #expect(status.contains("Uid:\t65534\t65534"), "the agent runs as nobody: \(status)")
        for name in ["status", "mem", "environ"] {
            #expect(Self.owner("/proc/\(pid)/\(name)") == 0, "/proc/PID/\(name) of a non-dumpable process is root's")
        }

        // The observable is sound: a dumpable process of the same user owns its /proc entry.
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: Self.setpriv)
        sleeper.arguments = Array(Self.asNobody.dropFirst()) + ["/bin/sleep", "10"]
        try sleeper.run()
        defer {
            kill(sleeper.processIdentifier, SIGKILL)
            sleeper.waitUntilExit()
        }
        let sleeperStatus = "/proc/\(sleeper.processIdentifier)/status"
        #expect(eventually(timeout: 5) { Self.owner(sleeperStatus) == Self.nobody })
        #expect(agent.terminate() == 0, "\(agent.log)")
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// `api: track` puts the project token in every event: a dead letter keeps the event but
    /// never the token (events older than /track's 5 days are dead-lettered before sending).
    @Test func trackDeadLettersCarryNoToken() throws {
        let dir = try makeTempDir("e2e-sec-track")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try IngestServer(arguments: ["--token", DeliveryAnswersEndToEndTests.token])
        let configPath = dir + "/agent.yaml"
        try DeliveryAnswersEndToEndTests.config(
            dir: dir, port: server.port, destination: DeliveryAnswersEndToEndTests.trackDestination
        ).write(toFile: configPath, atomically: true, encoding: .utf8)
        // pastMs is more than 5 days ago: every event is dead-lettered as too old for /track.
        try append(FaultEndToEndTests.lines(0..<20), to: dir + "/logs/app.log")
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_TOKEN": DeliveryAnswersEndToEndTests.token], logPath: dir + "/agent.log")
        #expect(try eventually { try DeliveryAnswersEndToEndTests.deadLetters(dir).count == 20 }, "\(agent.log)")
        #expect(agent.terminate() == 0)
        let text = try String(contentsOfFile: dir + "/state/dead-letters.ndjson", encoding: .utf8)
        #expect(!text.contains(DeliveryAnswersEndToEndTests.token))
        for letter in try DeliveryAnswersEndToEndTests.deadLetters(dir) {
            #expect(letter["reason"] as? String == "too_old_for_track")
            let properties = try #require((letter["event"] as? [String: Any])?["properties"] as? [String: Any])
            #expect(properties["token"] == nil)
            #expect(properties["seq"] != nil, "the event is kept, only the token is gone")
        }
        #expect(!agent.log.contains(DeliveryAnswersEndToEndTests.token))
    }
}
