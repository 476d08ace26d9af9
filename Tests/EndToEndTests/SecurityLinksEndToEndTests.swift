import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A log writer (`nobody`, owning the log directory) plants links to root-only files among the
/// logs of an agent running as root, with the default `start_at: end` and a rule every planted
/// line matches: nothing of those files is read or shipped, the directories they lead to are not
/// watched, each link is logged once, and the real log goes on arriving.
@Suite(.serialized) struct SecurityLinksEndToEndTests {
    static let attacker = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]

    /// Runs `arguments` as the attacker; true on exit 0.
    static func asAttacker(_ arguments: [String]) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = attacker + arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// Inode numbers of everything the process's inotify descriptors watch (`/proc/PID/fdinfo`).
    static func watchedInodes(pid: Int32) -> Set<UInt64> {
        let base = "/proc/\(pid)/fdinfo"
        var inodes = Set<UInt64>()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] {
            guard let text = try? String(contentsOfFile: base + "/" + name, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("inotify wd:") {
                for field in line.split(separator: " ") where field.hasPrefix("ino:") {
                    if let inode = UInt64(field.dropFirst(4), radix: 16) { inodes.insert(inode) }
                }
            }
        }
        return inodes
    }

    @Test func linksToRootOnlyFilesShipNothingAndWatchNothing() throws {
        let dir = try makeTempDir("e2e-links")
        let server = try FaultEndToEndTests.server()
        let configPath = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: server.port, startAt: "")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let logs = dir + "/logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        #expect(chown(logs, 65534, 65534) == 0)
        let app = logs + "/app.log"
        try append("", to: app)
        #expect(chown(app, 65534, 65534) == 0)
        // Two root-only files holding lines the rule matches, in directories the writer cannot list.
        for (name, seq) in [("private/secret.log", 900), ("etcish/shadow", 901)] {
            let path = dir + "/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            try append(FaultEndToEndTests.lines(seq..<seq + 1), to: path)
            #expect(chmod(path, 0o600) == 0)
        }
        let agent = try AgentProcess(
            config: configPath, env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        _ = eventually(timeout: 10) {
            (try? String(contentsOfFile: dir + "/state/checkpoints.json", encoding: .utf8))?.contains("app.log") == true
        }
        try append(FaultEndToEndTests.lines(0..<10), to: app)
        #expect(try Self.asAttacker(["ln", "-s", dir + "/private/secret.log", logs + "/stolen.log"]))
        #expect(try Self.asAttacker(["ln", "-s", dir + "/etcish/shadow", logs + "/shadow.log"]))
        // Rescans forced by new entries: the links are judged again each time, and logged once.
        for round in 0..<3 {
            #expect(try Self.asAttacker(["touch", logs + "/poke-\(round).txt"]))
            usleep(300_000)
        }
        try append(FaultEndToEndTests.lines(10..<20), to: app)
        #expect(try eventually(timeout: 15) { try server.storedEvents(dedup: true).count >= 20 })
        usleep(1_000_000)
        let refusals = agent.log.split(separator: "\n").filter { $0.contains("tail.link_refused") }
        #expect(refusals.count == 2, "each link logged once: \(refusals)")
        #expect(refusals.allSatisfy { $0.contains("owned by uid 65534") }, "\(refusals)")
        var etcish = stat()
        #expect(stat(dir + "/etcish", &etcish) == 0)
        #expect(!Self.watchedInodes(pid: agent.process.processIdentifier).contains(UInt64(etcish.st_ino)))
        // `status` lists them with the files that cannot be opened (published on the next tick).
        let listed = try eventually(timeout: 5) {
            let status = try TailshipProcess.run(["status", "-c", configPath])
            return status.stdout.contains(logs + "/stolen.log")
                && status.stdout.contains("link refused: the link is owned")
        }
        let shown = try TailshipProcess.run(["status", "-c", configPath]).stdout
        #expect(listed, "\(shown)")
        #expect(agent.terminate() == 0)
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<20)
    }
}
