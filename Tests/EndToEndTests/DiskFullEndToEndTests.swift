import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The state directory on a file system that fills up: the agent keeps running and delivering,
/// says what it cannot write, and once there is room again nothing is lost or re-keyed.
@Suite(.serialized) struct DiskFullEndToEndTests {
    /// A line whose event fails the API's rules locally (time in 1970): it is dead-lettered.
    static func badLine(_ seq: Int) -> String { "5 order seq=\(seq) user=u1\n" }

    /// Which of lines 100..<300 are bad (none of the first ten, written on their own).
    static func isBad(_ seq: Int) -> Bool { seq % 20 == 10 }

    /// Runs `mount`/`umount` with `arguments`; returns its exit status.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Writes zeros into `path` until the file system says ENOSPC.
    static func fill(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer { close(fd) }
        let block = [UInt8](repeating: 0, count: 4096)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        // Whatever single bytes are left (the last partial block).
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, 1) }) > 0 {}
    }

    /// Makes `state` run out of space on demand: a 256 KiB tmpfs (0700: tailship refuses a state
    /// directory others can write) filled to the last byte when mounting one is allowed (root, as
    /// in CI); otherwise the directory made read-only and the dead-letter file a link (which
    /// tailship refuses to open): no write gets through, as on a full disk.
    final class StateDisk {
        let state: String
        let mounted: Bool

        init(_ state: String) throws {
            self.state = state
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            mounted =
                try DiskFullEndToEndTests.run(
                    "/usr/bin/mount", ["-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", state]) == 0
        }

        deinit {
            if mounted { _ = try? DiskFullEndToEndTests.run("/usr/bin/umount", ["-l", state]) }
        }

        func fill() {
            if mounted {
                DiskFullEndToEndTests.fill(state + "/filler")
            } else {
                unlink(state + "/dead-letters.ndjson")
                symlink("/dev/full", state + "/dead-letters.ndjson")
                chmod(state, 0o500)
            }
        }

        func makeRoom() {
            if mounted {
                unlink(state + "/filler")
            } else {
                chmod(state, 0o700)
                unlink(state + "/dead-letters.ndjson")
            }
        }
    }

    /// An agent on a state directory that can be filled, with `delivered` lines already shipped.
    struct Rig {
        let dir: String
        let state: String
        let disk: StateDisk
        let server: IngestServer
        let log: String
        let agent: AgentProcess

        init(_ name: String, delivered: Int) throws {
            dir = try makeTempDir(name)
            state = dir + "/state"
            disk = try StateDisk(state)
            server = try FaultEndToEndTests.server()
            try FaultEndToEndTests.config(dir: dir, port: server.port)
                .write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
            log = dir + "/logs/app.log"
            try append(FaultEndToEndTests.lines(0..<delivered), to: log)
            agent = try AgentProcess(
                config: dir + "/agent.yaml", env: ["E2E_SECRET": FaultEndToEndTests.secret],
                logPath: dir + "/agent.log")
            let server = self.server
            #expect(try eventually { try server.storedEvents(dedup: true).count == delivered })
        }
    }

    @Test func aFullStateDirectoryStallsProgressButLosesNothing() throws {
        let rig = try Rig("e2e-diskfull", delivered: 100)
        let (dir, state, disk, server, log) = (rig.dir, rig.state, rig.disk, rig.server, rig.log)
        var agent = rig.agent
        defer { agent.terminate() }
        #expect(eventually { FileManager.default.fileExists(atPath: state + "/checkpoints.json") })
        usleep(1_500_000)  // the checkpoint for the first 100 lines is on disk

        // Full: good lines still ship; dead letters and checkpoints cannot be written.
        disk.fill()
        // First good lines alone (one read, one segment): delivered, their checkpoint cannot be saved.
        try append(FaultEndToEndTests.lines(100..<110), to: log)
        #expect(try eventually { try server.storedEvents(dedup: true).count == 110 })
        var text = ""
        for seq in 110..<300 { text += Self.isBad(seq) ? Self.badLine(seq) : FaultEndToEndTests.lines(seq..<seq + 1) }
        try append(text, to: log)
        let goodFull = (100..<300).filter { !Self.isBad($0) }
        #expect(try eventually { try server.storedEvents(dedup: true).count == 100 + goodFull.count })
        for name in ["checkpoint.dead_letters_not_written", "checkpoint.save_failed"] {
            #expect(eventually { agent.log.contains(name) }, "no \(name); agent log:\n\(agent.log.suffix(3000))")
        }
        usleep(1_500_000)
        #expect(agent.process.isRunning, "the agent died on a full disk; log:\n\(agent.log.suffix(3000))")

        // Room again: the next restart reads the held-back lines again (same $insert_ids) and
        // dead-letters the bad ones now that they can be written.
        disk.makeRoom()
        #expect(agent.terminate() == 0, "agent log:\n\(agent.log.suffix(3000))")
        agent = try AgentProcess(
            config: dir + "/agent.yaml", env: ["E2E_SECRET": FaultEndToEndTests.secret], logPath: dir + "/agent.log")
        try append(FaultEndToEndTests.lines(300..<320), to: log)
        let good = Array(0..<100) + goodFull + Array(300..<320)
        #expect(try eventually { try server.storedEvents(dedup: true).count == good.count })
        let letters = { (try? String(contentsOfFile: state + "/dead-letters.ndjson", encoding: .utf8)) ?? "" }
        #expect(eventually { letters().split(separator: "\n").count >= 10 })
        usleep(500_000)
        #expect(agent.terminate() == 0, "agent log:\n\(agent.log.suffix(3000))")
        // Every good line once under one key; every bad line dead-lettered exactly once.
        try FaultEndToEndTests.assertExactlyOnce(server, expected: good)
        let deadSeqs = letters().split(separator: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: #"seq=(\d+)"#, options: .regularExpression) else { return nil }
            return Int(line[range].dropFirst(4))
        }
        #expect(deadSeqs.sorted() == (100..<300).filter(Self.isBad), "dead letters: \(letters())")
    }

    /// A dead letter that could not be written is retried while the agent runs: once there is
    /// room it is written (once) and the file's checkpoint moves past its line, with no new line
    /// and no restart needed.
    @Test func aDeadLetterThatCouldNotBeWrittenIsWrittenOnceThereIsRoom() throws {
        let rig = try Rig("e2e-deadletter-retry", delivered: 10)
        let (state, disk, log, agent) = (rig.state, rig.disk, rig.log, rig.agent)
        defer { agent.terminate() }
        disk.fill()
        try append(Self.badLine(10), to: log)
        #expect(eventually { agent.log.contains("checkpoint.dead_letters_not_written") }, "\(agent.log.suffix(2000))")
        disk.makeRoom()
        let letters = { (try? String(contentsOfFile: state + "/dead-letters.ndjson", encoding: .utf8)) ?? "" }
        #expect(eventually { letters().contains("seq=10") }, "agent log:\n\(agent.log.suffix(2000))")
        let size = try FileManager.default.attributesOfItem(atPath: log)[.size] as? UInt64
        let checkpointed = {
            let text = (try? String(contentsOfFile: state + "/checkpoints.json", encoding: .utf8)) ?? ""
            return text.contains("\"offset\" : \(size ?? 0)")
        }
        #expect(eventually { checkpointed() }, "the checkpoint moved past the dead-lettered line")
        #expect(agent.terminate() == 0)
        #expect(letters().split(separator: "\n").count == 1)
    }
}
