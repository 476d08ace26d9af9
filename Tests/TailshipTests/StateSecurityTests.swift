import Foundation
import Testing

@testable import Tailship

/// The state directory's defences (docs/security.md, "State directory and secrets"): links
/// planted among the state files are never written or read through, files are 0600 and the
/// directory 0700, reads are bounded, and a directory others can write is refused.
@Suite struct StateSecurityTests {
    static func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("state-sec-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
    }

    static func isLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    static let checkpoint = Checkpoint(
        identity: FileIdentity(device: 1, inode: 2, fingerprint: 3, fingerprintLength: 4), path: "/var/log/a.log",
        source: "app", offset: 1234, updatedMs: 5)

    @Test func aLinkPlantedAsTheTemporaryCheckpointFileIsReplacedNotWrittenThrough() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victim = dir + "/victim.conf"
        try "precious\n".write(toFile: victim, atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/state", withIntermediateDirectories: false)
        var store = try CheckpointStore(directory: dir + "/state")
        // Planted after load (a save comes later): the save must not follow it.
        try FileManager.default.createSymbolicLink(atPath: store.path + ".tmp", withDestinationPath: victim)
        store.update(Self.checkpoint)
        try store.save()
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
        #expect(!FileManager.default.fileExists(atPath: store.path + ".tmp"))
        #expect(!Self.isLink(store.path))
        #expect(try Self.mode(store.path) == 0o600)
        #expect(try CheckpointStore(directory: dir + "/state").checkpoints.count == 1)
    }

    @Test func aLinkAsTheCheckpointFileIsRefusedAtLoadAndReplacedBySave() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let victim = dir + "/victim.conf"
        try "precious\n".write(toFile: victim, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/checkpoints.json", withDestinationPath: victim)
        let error = #expect(throws: CheckpointError.self) { try CheckpointStore(directory: dir) }
        #expect(error?.message.contains("is a symbolic link") == true, "\(String(describing: error))")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious\n")
    }

    @Test func anOversizedCheckpointFileIsRefusedWithoutReadingIt() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/checkpoints.json"
        let fd = open(path, O_WRONLY | O_CREAT, 0o600)
        #expect(ftruncate(fd, off_t(CheckpointStore.maxFileBytes + 1)) == 0)  // sparse: no disk used
        close(fd)
        let error = #expect(throws: CheckpointError.self) { try CheckpointStore(directory: dir) }
        #expect(error?.message.contains("larger than 64 MiB") == true, "\(String(describing: error))")
    }

    @Test func stateDirectoryAndFilesAreCreatedPrivate() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let state = dir + "/a/state"
        var store = try CheckpointStore(directory: state)
        store.update(Self.checkpoint)
        try store.save()
        let lock = try StateDirectoryLock(stateDir: state)
        defer { lock.release() }
        try DeadLetterWriter(stateDir: state).write([ShipDeadLetterTests.letter(1)])
        #expect(try Self.mode(state) == 0o700)
        #expect(try Self.mode(dir + "/a") == 0o755, "parents as mkdir -p makes them")
        for name in ["checkpoints.json", "agent.lock", "dead-letters.ndjson"] {
            #expect(try Self.mode(state + "/" + name) == 0o600, "\(name)")
        }
    }

    @Test func anExistingWiderDeadLetterFileIsNarrowedOnWrite() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = DeadLetterWriter(stateDir: dir)
        try "old\n".write(toFile: writer.path, atomically: false, encoding: .utf8)
        chmod(writer.path, 0o644)
        try writer.write([ShipDeadLetterTests.letter(1)])
        #expect(try Self.mode(writer.path) == 0o600)
    }

    @Test func deadLettersNeverGoThroughALink() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let other = dir + "/other.conf"
        try "precious\n".write(toFile: other, atomically: false, encoding: .utf8)
        let state = dir + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        let writer = DeadLetterWriter(stateDir: state, maxBytes: 4096, rotations: 2)
        try FileManager.default.createSymbolicLink(atPath: writer.path, withDestinationPath: other)
        let error = #expect(throws: SyscallError.self) { try writer.write([ShipDeadLetterTests.letter(1)]) }
        #expect(error?.errno.rawValue == ELOOP)
        #expect(try String(contentsOfFile: other, encoding: .utf8) == "precious\n")

        // Rotation unlinks and renames entries, never what they point at.
        try FileManager.default.removeItem(atPath: writer.path)
        try FileManager.default.createSymbolicLink(atPath: writer.path + ".2", withDestinationPath: other)
        for n in 0..<40 { try writer.write([ShipDeadLetterTests.letter(n)]) }
        #expect(try String(contentsOfFile: other, encoding: .utf8) == "precious\n")
        #expect(!Self.isLink(writer.path + ".2"))
    }

    @Test func countingSkipsLinksDevicesAndFIFOsPromptly() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = DeadLetterWriter.path(stateDir: dir)
        try "a\nb\n".write(toFile: base, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: base + ".1", withDestinationPath: "/dev/zero")
        #expect(mkfifo(base + ".2", 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: base + ".3", withDestinationPath: "/etc/passwd")
        let started = Date()
        #expect(try DeadLetterWriter.count(stateDir: dir) == 2)
        #expect(Date().timeIntervalSince(started) < 2)
    }

    @Test func everyWriteKeepsToTheCap() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = DeadLetterWriter(stateDir: dir, maxBytes: 4096, rotations: 3)
        // A 2 MB server message and a 1 MB line: cut, marked, never dropped.
        var huge = ShipDeadLetterTests.letter(1)
        huge.message = String(repeating: "m\u{1}", count: 1_000_000)
        huge.rawLine = String(repeating: "é", count: 500_000)
        huge.eventJSON = Array(("{\"event\":\"" + String(repeating: "e", count: 100_000) + "\"}").utf8)
        // One batch larger than the cap: split across files.
        try writer.write([huge] + (0..<30).map { ShipDeadLetterTests.letter($0) })
        for suffix in ["", ".1", ".2", ".3"] where FileManager.default.fileExists(atPath: writer.path + suffix) {
            let size = try FileManager.default.attributesOfItem(atPath: writer.path + suffix)[.size] as! Int
            #expect(size <= 4096, "\(suffix): \(size)")
        }
        let cut = huge.line(limit: 4096)
        #expect(cut.count <= DeadLetter.cutLineBytes)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(cut)) as? [String: Any])
        #expect(object["truncated"] as? Bool == true)
        #expect(object["event"] is NSNull)
        #expect((object["message"] as? String)?.hasPrefix("m\u{1}m") == true)
        #expect((object["line"] as? String)?.hasPrefix("éé") == true)
        #expect(ShipDeadLetterTests.letter(1).line(limit: 4096) == ShipDeadLetterTests.letter(1).line())
    }

    @Test func theTrackTokenNeverReachesADeadLetter() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let token = "tok\"en-\u{1}"
        let pending = ShipShipperTests.pending(3)
        var letter = ShipDeadLetterTests.letter(3)
        letter.eventJSON = EventEncoder(token: token).encode(pending.event)
        try DeadLetterWriter(stateDir: dir, redactingToken: token).write([letter])
        let text = try String(contentsOfFile: DeadLetterWriter.path(stateDir: dir), encoding: .utf8)
        #expect(!text.contains("tok"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let properties = try #require((object["event"] as? [String: Any])?["properties"] as? [String: Any])
        #expect(properties["token"] == nil)
        #expect(properties["distinct_id"] as? String == "user-3")
        #expect((properties["n"] as? NSNumber)?.intValue == 3)
    }

    @Test func aStateDirectoryOthersCanWriteIsRefusedNamingTheFix() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(StateDirectory.problem(dir + "/missing") == nil, "created 0700 by the agent")
        chmod(dir, 0o755)
        #expect(StateDirectory.problem(dir) == nil)
        chmod(dir, 0o777)
        #expect(StateDirectory.problem(dir)?.contains("chmod go-w \(dir)") == true)
        chmod(dir, 0o770)
        #expect(StateDirectory.problem(dir)?.contains("writable by group or others (mode 770)") == true)
        chmod(dir, 0o700)
        if geteuid() == 0 {
            chown(dir, 65534, 65534)
            #expect(StateDirectory.problem(dir)?.contains("owned by uid 65534") == true)
            #expect(StateDirectory.problem(dir)?.contains("chown 0 \(dir)") == true)
        }

        // Through the configuration: at state_dir's value, for check (checkPaths) and run (checkStateDir).
        chown(dir, geteuid(), getegid())
        chmod(dir, 0o777)
        let config = dir + "/agent.yaml"
        try ("state_dir: \(dir)\n" + minimalConfig).write(toFile: config, atomically: false, encoding: .utf8)
        for draft in [
            ConfigLoader.draft(path: config, environment: ["MIXPANEL_SECRET": "s"], checkStateDir: true),
            ConfigLoader.draft(path: config, environment: ["MIXPANEL_SECRET": "s"], checkPaths: true),
        ] {
            #expect(
                draft.problems.map(\.description) == [
                    "\(config):1:12: state_dir is not safe: \(dir) is writable by group or others (mode 777): they "
                        + "could plant links or replace checkpoints; chmod go-w \(dir) (0700 recommended)"
                ])
        }
        #expect(ConfigLoader.draft(path: config, environment: ["MIXPANEL_SECRET": "s"]).problems.isEmpty)
    }

    @Test func aSecretFileOthersCanReadIsRefusedAtItsPosition() throws {
        let path = try secretFile(contents: "s3cr3t\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try SecretResolver.resolve(.file(path), environment: [:]) == "s3cr3t")
        chmod(path, 0o400)
        #expect(try SecretResolver.resolve(.file(path), environment: [:]) == "s3cr3t")
        for mode: mode_t in [0o644, 0o640, 0o604, 0o620, 0o602] {
            chmod(path, mode)
            #expect(throws: SecretError.fileExposed(path: path, mode: String(mode, radix: 8))) {
                try SecretResolver.resolve(.file(path), environment: [:])
            }
        }
        chmod(path, 0o644)
        let text = minimalConfig.replacingOccurrences(of: "secret_env: MIXPANEL_SECRET", with: "secret_file: \(path)")
        #expect(
            configProblems(text) == [
                "agent.yaml:3:18: secret file '\(path)' is readable or writable by group or others (mode 644); "
                    + "chmod 600 \(path)"
            ])
        #expect(!configProblems(text).joined().contains("s3cr3t"))
    }

    /// systemd's `LoadCredential=` gives the service's user read access by an ACL entry, so the
    /// mode shows 0440 (the group bits are the ACL's mask): accepted; an entry for another user or
    /// group is not.
    @Test func aCredentialSharedByACLWithThisUserAloneIsAccepted() throws {
        let path = try secretFile(contents: "s3cr3t\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        chmod(path, 0o400)
        func acl(namedUser: UInt32, namedGroup: UInt32? = nil) -> [UInt8] {
            var bytes: [UInt8] = [2, 0, 0, 0]
            func entry(_ tag: UInt16, _ perm: UInt16, _ id: UInt32) {
                bytes += [UInt8(tag & 0xFF), UInt8(tag >> 8), UInt8(perm & 0xFF), UInt8(perm >> 8)]
                bytes += [UInt8(id & 0xFF), UInt8((id >> 8) & 0xFF), UInt8((id >> 16) & 0xFF), UInt8(id >> 24)]
            }
            entry(0x01, 4, UInt32.max)
            entry(0x02, 4, namedUser)
            entry(0x04, 0, UInt32.max)
            if let namedGroup { entry(0x08, 4, namedGroup) }
            entry(0x10, 4, UInt32.max)
            entry(0x20, 0, UInt32.max)
            return bytes
        }
        // Set as `setfacl` would (Swift's Glibc module lacks setxattr; python3 runs the fake API).
        func setACL(_ bytes: [UInt8]) -> Bool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            let hex = bytes.map { String(format: "%02x", $0) }.joined()
            process.arguments = [
                "python3", "-c",
                "import os,sys; os.setxattr(sys.argv[1], 'system.posix_acl_access', bytes.fromhex(sys.argv[2]))",
                path, hex,
            ]
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return false }
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
        guard setACL(acl(namedUser: geteuid())) else { return }  // a file system without ACLs
        #expect(try Self.mode(path) == 0o440, "the mask shows as the group bits")
        #expect(try SecretResolver.resolve(.file(path), environment: [:]) == "s3cr3t")
        #expect(setACL(acl(namedUser: 65534)))
        #expect(throws: SecretError.fileExposed(path: path, mode: "440")) {
            try SecretResolver.resolve(.file(path), environment: [:])
        }
        #expect(setACL(acl(namedUser: geteuid(), namedGroup: 65534)))
        #expect(throws: SecretError.self) { try SecretResolver.resolve(.file(path), environment: [:]) }
    }

    @Test func aConfigurationOthersCanWriteIsWarnedAbout() throws {
        let path = try secretFile(contents: minimalConfig)
        defer { try? FileManager.default.removeItem(atPath: path) }
        chmod(path, 0o644)
        #expect(ConfigFileMode.warning(path: path) == nil)
        chmod(path, 0o666)
        #expect(
            ConfigFileMode.warning(path: path)
                == "\(path): warning: the configuration is writable by group or others (mode 666); whoever can "
                + "write it chooses what tailship reads and where it sends it: chmod go-w \(path)")
        chmod(path, 0o664)
        #expect(ConfigFileMode.warning(path: path)?.contains("(mode 664)") == true)
    }
}
