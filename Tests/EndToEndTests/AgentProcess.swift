import Foundation
import Testing

/// `tailship run` as a child process, with its stderr kept in a file for assertions.
final class AgentProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String

    /// Starts `tailship run -c config` with the test's environment plus `env`, minus `unset`.
    /// `launcher`: a command that execs the agent in its own process (`setpriv …` to run it as
    /// another user), so the pid is still the agent's. `arguments` follow `run -c config`.
    init(
        config: String, env: [String: String] = [:], unset: [String] = [], logPath: String,
        binary: URL = TailshipProcess.binary, launcher: [String] = [], arguments: [String] = []
    ) throws {
        self.logPath = logPath
        if let command = launcher.first {
            process.executableURL = URL(fileURLWithPath: command)
            process.arguments = Array(launcher.dropFirst()) + [binary.path, "run", "-c", config] + arguments
        } else {
            process.executableURL = binary
            process.arguments = ["run", "-c", config] + arguments
        }
        var environment = ProcessInfo.processInfo.environment
        for name in unset { environment.removeValue(forKey: name) }
        environment.merge(env) { _, new in new }
        process.environment = environment
        // Appended to, so a restarted agent's log follows the previous run's.
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    func terminate(timeout: TimeInterval = 20) -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        return wait(timeout: timeout)
    }

    /// SIGKILL: no chance to flush or save anything.
    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        _ = wait(timeout: 10)
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    private func wait(timeout: TimeInterval) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: TimeInterval = 15, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}

/// A fresh temporary directory for one test.
func makeTempDir(_ prefix: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir + "/logs", withIntermediateDirectories: true)
    return dir
}

/// Appends text to a file, creating it if needed, the way a logging application does.
func append(_ text: String, to path: String) throws {
    if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    handle.seekToEndOfFile()
    handle.write(Data(text.utf8))
    try handle.close()
}

/// Writes a secret file as tailship requires it: mode 0600 (a wider one is refused).
func writeSecret(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
}

/// `gzip` (keeping the original with `keep`), as logrotate's `compress` does; expects success.
func gzip(_ path: String, keep: Bool = false) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = keep ? ["-k", path] : [path]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "gzip \(path) failed")
}
