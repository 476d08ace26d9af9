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
        #expect(again.stdout == "imported 2 file(s)\n")
        try FaultEndToEndTests.assertExactlyOnce(server, expected: 0..<25_000)
        // Its own checkpoints; the live agent's are untouched.
        #expect(FileManager.default.fileExists(atPath: dir + "/state/import-checkpoints.json"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/state/checkpoints.json"))
    }
}
