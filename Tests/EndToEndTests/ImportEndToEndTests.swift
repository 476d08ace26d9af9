import Foundation
import Testing

/// `tailship import`: a one-shot backfill of plain and gzip files, resumable after an interrupt.
@Suite(.serialized) struct ImportEndToEndTests {
    @Test func backfillsPlainAndGzipFilesAndResumesAfterAnInterrupt() throws {
        let dir = try makeTempDir("e2e-import")
        let server = try FaultEndToEndTests.server()
        let configPath = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: server.port)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let plain = dir + "/logs/app.log.1"
        try append(FaultEndToEndTests.lines(0..<20_000), to: plain)
        let archive = dir + "/logs/app.log.2"
        try append(FaultEndToEndTests.lines(20_000..<25_000), to: archive)
        try gzip(archive)

        let process = Process()
        process.executableURL = TailshipProcess.binary
        process.arguments = ["import", "-c", configPath, archive + ".gz", plain]
        process.environment = ProcessInfo.processInfo.environment.merging(["E2E_SECRET": FaultEndToEndTests.secret]) {
            $1
        }
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Some progress, then the API goes down and the user interrupts: what was not
        // acknowledged within the grace period stays for the next run.
        _ = try eventually(timeout: 10) { try server.storedEvents().count > 0 }
        try server.setConfig(["outage": true])
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2, "an interrupted import says so")
        let first = try server.storedEvents(dedup: true).count
        #expect(first > 0 && first < 25_000)
        try server.setConfig(["outage": false])

        let again = try TailshipProcess.run(
            ["import", "-c", configPath, archive + ".gz", plain],
            env: ["E2E_SECRET": FaultEndToEndTests.secret])
        #expect(again.status == 0, "\(again.stderr)")
        // The second run resumes: only what the first did not get acknowledged is read again.
        #expect(again.stdout.hasPrefix("imported 2 file(s): "), "\(again.stdout)")
        #expect(again.stdout.contains("delivered, 0 dead-lettered), 0 unmatched, 0 dropped"), "\(again.stdout)")
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<25_000)
        // Its own checkpoints; the live agent's are untouched.
        #expect(FileManager.default.fileExists(atPath: dir + "/state/import-checkpoints.json"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/state/checkpoints.json"))
    }

    /// Import progress belongs to the rules that read the file: imported first under a source
    /// whose rules match none of its lines, the file is read again under the right one (and
    /// without `--source`, the source whose paths match it is the one used, or the command says
    /// which to name).
    @Test func progressIsKeptPerSourceAndTheMatchingSourceIsChosen() throws {
        let dir = try makeTempDir("e2e-import-sources")
        let server = try FaultEndToEndTests.server()
        let configPath = dir + "/agent.yaml"
        try """
        state_dir: \(dir)/state
        destination:
          url: http://127.0.0.1:\(server.port)
          project_id: "42"
          auth: { username: e2e.sa, secret_env: E2E_SECRET }
          batch: { flush_interval: 100ms }
        sources:
          - name: web
            paths: ["\(dir)/web/*.log"]
            rules:
              - name: visit
                match: '^(?<ts>\\d+) visit user=(?<user>\\w+)'
                event: Visited
                distinct_id: "{{user}}"
                time: { field: ts, format: unix_ms }
          - name: app
            paths: ["\(dir)/logs/app.log"]
            rules:
              \(FaultEndToEndTests.orderRule)
        """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let rotated = dir + "/logs/app.log.1"
        try append(FaultEndToEndTests.lines(0..<30), to: rotated)
        let env = ["E2E_SECRET": FaultEndToEndTests.secret]
        let wrong = try TailshipProcess.run(["import", "-c", configPath, "--source", "web", rotated], env: env)
        #expect(wrong.status == 0, "\(wrong.stderr)")
        #expect(wrong.stdout.contains("30 lines, 0 events"), "\(wrong.stdout)")
        // No --source: app.log.1 is app.log rotated, which only `app` follows.
        let right = try TailshipProcess.run(["import", "-c", configPath, rotated], env: env)
        #expect(right.status == 0, "\(right.stderr)")
        #expect(right.stdout.contains("30 lines, 30 events (30 delivered"), "\(right.stdout)")
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<30)
        // A file no source follows: the command names the sources instead of guessing.
        let elsewhere = dir + "/other.txt"
        try append(FaultEndToEndTests.lines(30..<31), to: elsewhere)
        let unknown = try TailshipProcess.run(["import", "-c", configPath, elsewhere], env: env)
        #expect(unknown.status == 1)
        #expect(
            unknown.stderr.contains("no source's paths match \(elsewhere)")
                && unknown.stderr.contains("--source (one of: web, app)"), "\(unknown.stderr)")
        let test = try TailshipProcess.run(["test", "-c", configPath, rotated])
        #expect(test.stdout.split(separator: "\n").count == 30, "test chooses the same source: \(test.stderr)")
    }

    /// `--dry-run` reads what the import would read, from where it would start, and sends and
    /// writes nothing (it needs no secret); a file named `.gz` that is not gzip is refused by
    /// `import` and `test` before anything is read or sent.
    @Test func aDryRunSendsNothingAndAMislabelledArchiveIsRefused() throws {
        let dir = try makeTempDir("e2e-import-dry")
        let server = try FaultEndToEndTests.server()
        let configPath = dir + "/agent.yaml"
        try FaultEndToEndTests.config(dir: dir, port: server.port)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let plain = dir + "/logs/app.log.1"
        try append(FaultEndToEndTests.lines(0..<40) + "a line no rule matches\n", to: plain)
        let size = try FileManager.default.attributesOfItem(atPath: plain)[.size] as! UInt64

        let dry = try TailshipProcess.run(["import", "-c", configPath, "--dry-run", plain])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(
            dry.stdout.contains(
                "\(plain): from its start (\(size) bytes): 41 lines, 40 events, 0 invalid (would be dead-lettered), "
                    + "1 unmatched, 0 dropped"), "\(dry.stdout)")
        #expect(dry.stdout.contains("dry run: would import 1 file(s): 41 lines, 40 events"), "\(dry.stdout)")
        #expect(try server.storedEvents().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir + "/state/import-checkpoints.json"))

        let env = ["E2E_SECRET": FaultEndToEndTests.secret]
        let real = try TailshipProcess.run(["import", "-c", configPath, plain], env: env)
        #expect(real.status == 0, "\(real.stderr)")
        let after = try TailshipProcess.run(["import", "-c", configPath, "--dry-run", plain])
        #expect(after.stdout.contains("\(plain): already imported (\(size) bytes): 0 lines"), "\(after.stdout)")

        let mislabelled = dir + "/logs/app.log.2.gz"
        try append(FaultEndToEndTests.lines(40..<50), to: mislabelled)
        let refused = try TailshipProcess.run(["import", "-c", configPath, plain, mislabelled], env: env)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("\(mislabelled): named .gz but is not gzip data"), "\(refused.stderr)")
        let test = try TailshipProcess.run(["test", "-c", configPath, mislabelled])
        #expect(test.status == 1 && test.stdout.isEmpty)
        #expect(test.stderr.contains("named .gz but is not gzip data"), "\(test.stderr)")
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<40)
    }
}
