import Foundation
import Tailship
import Testing

/// Issue 10's Debian package: `scripts/build-deb.sh` packages the release binary, and the
/// package is installed, removed and purged on this machine with dpkg (root; CI is a throwaway
/// Debian host). The machine is left as found: the test refuses to start where a tailship
/// package, user, group or directory exists already, and purges in a `defer`.
@Suite(.serialized) struct PackageEndToEndTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let release = ProcessInfo.processInfo.environment["TAILSHIP_RELEASE_BIN"]
    static let asService = [
        SecurityStateEndToEndTests.setpriv, "--reuid=tailship", "--regid=tailship", "--init-groups",
    ]
    static let credentials = "/run/credentials/tailship.service"
    /// What the package creates outside dpkg's file list (maintainer scripts, systemd links).
    static let traces = [
        "/etc/tailship", "/var/lib/tailship", credentials, "/etc/systemd/system/tailship.service",
        "/etc/systemd/system/multi-user.target.wants/tailship.service",
    ]

    static var canInstall: Bool {
        geteuid() == 0 && release != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-deb")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-shlibdeps")
            && FileManager.default.isExecutableFile(atPath: SecurityStateEndToEndTests.setpriv)
    }

    static func sh(_ arguments: [String], timeout: TimeInterval = 120) throws -> (
        status: Int32, stdout: String, stderr: String, timedOut: Bool
    ) {
        try SecurityStateEndToEndTests.run(arguments, timeout: timeout)
    }

    /// Mode (permission bits), owner and group names of `path`, not following a link.
    static func attributes(_ path: String) -> (mode: mode_t, user: String, group: String)? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        let user = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "\(info.st_uid)"
        let group = getgrgid(info.st_gid).map { String(cString: $0.pointee.gr_name) } ?? "\(info.st_gid)"
        return (info.st_mode & 0o7777, user, group)
    }

    static func exists(_ path: String) -> Bool { attributes(path) != nil }

    static func installed() throws -> Bool {
        try sh(["/usr/bin/dpkg-query", "-W", "-f=${Status}", "tailship"]).stdout.contains("installed")
    }

    @Test(
        .enabled(
            if: canInstall,
            "needs root, dpkg-dev, setpriv and TAILSHIP_RELEASE_BIN (scripts/test.sh builds the release binary)"))
    func thePackageInstallsChecksRemovesAndPurgesCleanly() throws {
        // Nothing of a tailship installation may exist: this test would remove it.
        var present: [String] = Self.traces.filter(Self.exists)
        for group: String in ["tailship", "tailship-logs"] where getgrnam(group) != nil {
            present.append("group " + group)
        }
        if getpwnam("tailship") != nil { present.append("user tailship") }
        if try Self.installed() { present.append("package tailship") }
        try #require(present.isEmpty, "this machine has a tailship installation (\(present)); not touching it")

        let hadCredentialsDir = Self.exists("/run/credentials")
        let out = try makeTempDir("e2e-deb")
        defer {
            // Whatever failed above, the machine goes back to how it was found.
            _ = try? Self.sh(["/usr/bin/dpkg", "--purge", "tailship"])
            _ = try? Self.sh(["/usr/sbin/userdel", "tailship"])
            for group in ["tailship", "tailship-logs"] { _ = try? Self.sh(["/usr/sbin/groupdel", group]) }
            for path in Self.traces { try? FileManager.default.removeItem(atPath: path) }
            if !hadCredentialsDir { rmdir("/run/credentials") }
            try? FileManager.default.removeItem(atPath: out)
        }

        let build = try Self.sh([Self.repo + "/scripts/build-deb.sh", out])
        #expect(build.status == 0, "\(build)")
        let deb = build.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(deb == "\(out)/tailship_\(TailshipVersion.current)_amd64.deb")
        let control = try Self.sh(["/usr/bin/dpkg-deb", "-f", deb, "Depends", "Installed-Size"]).stdout
        for library in [
            "libc6", "libcurl4", "libyaml-0-2", "libpcre2-8-0", "zlib1g", "libdeflate0", "adduser", "tzdata",
        ] {
            #expect(control.contains(library), "Depends lacks \(library): \(control)")
        }
        #expect(!control.contains("swift"), "the Swift runtime is linked in, not a dependency: \(control)")
        // Debian's own checks of the package: no error, no warning (the 0640 files of /etc/tailship
        // are declared in the package's lintian overrides, with why).
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/lintian") {
            let lint = try Self.sh(["/usr/bin/lintian", deb], timeout: 300)
            let findings = lint.stdout.split(separator: "\n").filter { $0.hasPrefix("E:") || $0.hasPrefix("W:") }
            #expect(lint.status == 0 && findings.isEmpty, "lintian: \(lint)")
        } else {
            Issue.record("lintian is not installed (scripts/setup.sh installs it)")
        }

        let install = try Self.sh(["/usr/bin/dpkg", "-i", deb])
        try #require(install.status == 0, "\(install)")

        // Files, owners and modes.
        let expected: [(String, mode_t, String, String)] = [
            ("/usr/bin/tailship", 0o755, "root", "root"),
            ("/lib/systemd/system/tailship.service", 0o644, "root", "root"),
            ("/etc/tailship", 0o755, "root", "root"),
            ("/etc/tailship/agent.yaml", 0o640, "root", "tailship"),
            ("/etc/tailship/env", 0o640, "root", "tailship"),
            ("/etc/tailship/secret", 0o600, "root", "root"),
            ("/var/lib/tailship", 0o700, "tailship", "tailship"),
            ("/usr/share/man/man1/tailship.1.gz", 0o644, "root", "root"),
            ("/usr/share/bash-completion/completions/tailship", 0o644, "root", "root"),
            ("/usr/share/zsh/vendor-completions/_tailship", 0o644, "root", "root"),
            ("/usr/share/fish/vendor_completions.d/tailship.fish", 0o644, "root", "root"),
            ("/usr/share/doc/tailship/operations.md", 0o644, "root", "root"),
        ]
        for (path, mode, user, group) in expected {
            let found = Self.attributes(path)
            #expect(
                found?.mode == mode && found?.user == user && found?.group == group,
                "\(path): \(String(describing: found)), want \(String(mode, radix: 8)) \(user):\(group)")
        }
        #expect(try String(contentsOfFile: "/etc/tailship/secret", encoding: .utf8).isEmpty)
        #expect(
            (try? FileManager.default.destinationOfSymbolicLink(
                atPath: "/etc/systemd/system/multi-user.target.wants/tailship.service"))
                == "/lib/systemd/system/tailship.service", "enabled without a running systemd")
        // Hardening: position-independent, full RELRO (bound at start, GOT read-only afterwards).
        let hardening = try Self.sh(["/usr/bin/readelf", "--dynamic", "--program-headers", "/usr/bin/tailship"]).stdout
        #expect(
            hardening.contains("BIND_NOW") && hardening.contains("PIE") && hardening.contains("GNU_RELRO"),
            "\(hardening)")
        // Every installed file matches the package's sums (DEBIAN/md5sums; conffiles by dpkg's own).
        let verified = try Self.sh(["/usr/bin/dpkg", "--verify", "tailship"])
        #expect(verified.status == 0 && verified.stdout.isEmpty, "dpkg --verify: \(verified)")
        let sums = try Self.sh(["/usr/bin/dpkg-deb", "--info", deb]).stdout
        #expect(sums.contains("md5sums"), "the package carries md5sums")
        let conffiles = try Self.sh(["/usr/bin/dpkg-query", "-W", "-f=${Conffiles}", "tailship"]).stdout
        #expect(
            conffiles.contains("/etc/tailship/agent.yaml") && conffiles.contains("/etc/tailship/env"), "\(conffiles)")

        // Stripped: no debug sections, a fraction of the release binary.
        let sections = try Self.sh(["/usr/bin/readelf", "-S", "-W", "/usr/bin/tailship"])
        #expect(sections.status == 0 && !sections.stdout.contains(".debug_"), "not stripped")
        // Linked statically against the Swift runtime: no library is looked for beside the binary.
        let dynamic = try Self.sh(["/usr/bin/readelf", "-d", "/usr/bin/tailship"])
        #expect(!dynamic.stdout.contains("RUNPATH") && !dynamic.stdout.contains("RPATH"), "\(dynamic.stdout)")
        let size = try FileManager.default.attributesOfItem(atPath: "/usr/bin/tailship")[.size] as? Int ?? 0
        let releaseSize = try FileManager.default.attributesOfItem(atPath: Self.release!)[.size] as? Int ?? 0
        #expect(size > 0 && size < releaseSize)

        // The user and the groups.
        let user = try #require(getpwnam("tailship"))
        #expect(user.pointee.pw_uid < 1000, "a system user")
        #expect(String(cString: user.pointee.pw_shell) == "/usr/sbin/nologin")
        #expect(String(cString: user.pointee.pw_dir) == "/var/lib/tailship")
        let groups = try Self.sh(["/usr/bin/id", "-nG", "tailship"]).stdout.split(separator: " ").map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(Set(groups) == ["tailship", "tailship-logs"], "\(groups)")

        // systemd accepts the installed unit.
        let verify = try Self.sh(["/usr/bin/systemd-analyze", "verify", "/lib/systemd/system/tailship.service"])
        #expect(verify.status == 0 && !verify.stderr.contains("tailship"), "\(verify)")

        // The binary, its man page and completions.
        let version = try Self.sh(["/usr/bin/tailship", "--version"])
        #expect(version.stdout == TailshipVersion.current + "\n", "\(version)")
        let page = try Self.sh(["/bin/sh", "-c", "gzip -dc /usr/share/man/man1/tailship.1.gz"]).stdout
        for command in ["run", "check", "test", "status", "import"] {
            #expect(page.contains(".SS tailship \(command)"), "man page lacks \(command)")
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/man") {
            let man = try Self.sh(["/usr/bin/man", "-l", "/usr/share/man/man1/tailship.1.gz"])
            #expect(man.status == 0 && man.stdout.contains("TAILSHIP(1)"), "\(man)")
        }
        let bash = try Self.sh([
            "/bin/bash", "-c", "source /usr/share/bash-completion/completions/tailship; complete -p tailship",
        ])
        #expect(bash.stdout.contains("-F _tailship tailship"), "\(bash)")
        for file in [
            "/usr/share/zsh/vendor-completions/_tailship", "/usr/share/fish/vendor_completions.d/tailship.fish",
        ] {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            #expect(text.contains("import") && text.contains("status"), "\(file) lacks subcommands")
        }

        // `tailship check` as the service user, as ExecStartPre and ExecReload run it: refused
        // while the secret is empty (the operator has to set it), accepted once systemd would
        // hand it over as the credential (owned by the service user, 0400, in a 0500 directory,
        // as systemd 252 makes it on a file system without ACLs).
        let check = Self.asService + ["/usr/bin/tailship", "check", "-c", "/etc/tailship/agent.yaml"]
        try FileManager.default.createDirectory(atPath: Self.credentials, withIntermediateDirectories: true)
        let credential = Self.credentials + "/mixpanel-secret"
        try "sa-secret\n".write(toFile: credential, atomically: false, encoding: .utf8)
        chmod(credential, 0o400)
        chmod(Self.credentials, 0o500)
        chown(credential, user.pointee.pw_uid, 0)
        chown(Self.credentials, user.pointee.pw_uid, 0)
        let ok = try Self.sh(check, timeout: 20)
        #expect(ok.status == 0 && ok.stdout == "ok\n", "\(ok)")
        try "".write(toFile: credential, atomically: false, encoding: .utf8)
        let empty = try Self.sh(check, timeout: 20)
        #expect(empty.status == 1 && empty.stderr.contains("is empty"), "\(empty)")
        try FileManager.default.removeItem(atPath: Self.credentials)

        // Log access as docs/operations.md grants it (chgrp, and setfacl where `acl` is
        // installed): unreadable to the service user before, read through the rules after.
        let line = "2026-12-04T10:00:00Z INFO user=u1 action=purchase amount=9.99 plan=pro request_id=r1\n"
        var grants = [["/bin/sh", "-c", "chgrp -R tailship-logs DIR && chmod -R g+rX DIR"]]
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/setfacl") {
            grants.append(["/usr/bin/setfacl", "-R", "-m", "g:tailship-logs:rX", "-m", "d:g:tailship-logs:rX", "DIR"])
        }
        for (index, grant) in grants.enumerated() {
            let logs = out + "/myapp\(index)"
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: false)
            try line.write(toFile: logs + "/app.log", atomically: false, encoding: .utf8)
            chmod(logs, 0o750)
            chmod(logs + "/app.log", 0o640)
            let dryRun =
                Self.asService + [
                    "/usr/bin/tailship", "test", "-c", "/etc/tailship/agent.yaml", "--source", "app", logs + "/app.log",
                ]
            let before = try Self.sh(dryRun, timeout: 20)
            #expect(before.status == 1 && before.stderr.contains("Permission denied"), "\(before)")
            let granted = try Self.sh(grant.map { $0.replacingOccurrences(of: "DIR", with: logs) })
            #expect(granted.status == 0, "\(granted)")
            let after = try Self.sh(dryRun, timeout: 20)
            #expect(after.status == 0 && after.stdout.contains("\"Purchase Completed\""), "\(grant): \(after)")
        }

        // Remove: the program goes, the state, the configuration and the user stay.
        try "{}".write(toFile: "/var/lib/tailship/marker", atomically: false, encoding: .utf8)
        let remove = try Self.sh(["/usr/bin/dpkg", "-r", "tailship"])
        #expect(remove.status == 0, "\(remove)")
        #expect(!Self.exists("/usr/bin/tailship") && !Self.exists("/lib/systemd/system/tailship.service"))
        for path in [
            "/var/lib/tailship/marker", "/etc/tailship/agent.yaml", "/etc/tailship/env", "/etc/tailship/secret",
        ] {
            #expect(Self.exists(path), "\(path) removed by dpkg -r")
        }
        #expect(getpwnam("tailship") != nil)

        // Purge: nothing is left.
        let purge = try Self.sh(["/usr/bin/dpkg", "-P", "tailship"])
        #expect(purge.status == 0, "\(purge)")
        #expect(Self.traces.filter(Self.exists) == [], "left by purge")
        #expect(getpwnam("tailship") == nil && getgrnam("tailship") == nil && getgrnam("tailship-logs") == nil)
        #expect(try !Self.installed())
    }

    /// The unit's sandbox (docs/operations.md, "The unit's sandbox"): every directive is there,
    /// and the reload runs the check first so an invalid configuration fails `systemctl reload`.
    @Test func theUnitIsSandboxedAndReloadChecksFirst() throws {
        let unit = try String(contentsOfFile: Self.repo + "/packaging/tailship.service", encoding: .utf8)
        let lines = unit.split(separator: "\n").map(String.init)
        for directive in [
            "Type=notify", "NotifyAccess=main", "WatchdogSec=30s", "CapabilityBoundingSet=", "AmbientCapabilities=",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "SystemCallFilter=@system-service",
            "SystemCallFilter=~@privileged @resources", "SystemCallArchitectures=native", "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/tailship", "ProtectKernelTunables=true", "ProtectKernelModules=true",
            "ProtectKernelLogs=true", "ProtectControlGroups=true", "ProtectClock=true", "ProtectHostname=true",
            "RestrictNamespaces=true", "RestrictRealtime=true", "RestrictSUIDSGID=true", "LockPersonality=true",
            "PrivateDevices=true", "ProtectProc=invisible", "NoNewPrivileges=true",
            "ExecStartPre=/usr/bin/tailship check -c /etc/tailship/agent.yaml",
        ] {
            #expect(lines.contains(directive), "missing \(directive)")
        }
        let reloads = lines.filter { $0.hasPrefix("ExecReload=") }
        #expect(
            reloads == [
                "ExecReload=/usr/bin/tailship check -c /etc/tailship/agent.yaml", "ExecReload=/bin/kill -HUP $MAINPID",
            ])
        // Off on purpose: PCRE2's JIT needs writable and executable memory.
        #expect(!lines.contains("MemoryDenyWriteExecute=true"))

        // The exposure figure the docs give is systemd's for this unit.
        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else { return }
        let analysis = try Self.sh(
            [analyze, "security", "--offline=true", Self.repo + "/packaging/tailship.service"], timeout: 30)
        let marker = "Overall exposure level for tailship.service: "
        let figure = try #require(
            analysis.stdout.split(separator: "\n").first { $0.contains(marker) }.map {
                $0.components(separatedBy: marker)[1].split(separator: " ").prefix(2).joined(separator: " ")
            }, "\(analysis)")
        let docs = try String(contentsOfFile: Self.repo + "/docs/operations.md", encoding: .utf8)
        #expect(docs.contains("`systemd-analyze security tailship` rates **\(figure)**"), "systemd says \(figure)")
        let security = try String(contentsOfFile: Self.repo + "/docs/security.md", encoding: .utf8)
        #expect(security.contains("`systemd-analyze security` rates it \(figure)"), "systemd says \(figure)")
    }
}
