import ArgumentParser
import Foundation
import Logging
import Tailship

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent in the foreground (SIGTERM/SIGINT stop it cleanly, SIGHUP reloads the config)."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown log level '\(logLevel)'") }
    }

    func run() throws {
        // Before any secret is read: no core file or same-user ptrace can reveal it.
        ProcessHardening.disableCoreDumps()
        // Before any thread exists, so every thread inherits the blocked set.
        SignalWaiter.blockHandledSignals()
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { StderrLogHandler(label: $0, level: level) }
        let logger = Logger(label: "tailship")
        do {
            try Agent(configPath: options.path, logger: logger).run()
        } catch let error as ConfigError {
            Stderr.write(error.description)
            throw Exit.invalid
        } catch {
            logger.critical(.agentFailed, metadata: ["error": "\(error)"])
            throw Exit.runtime
        }
    }
}
