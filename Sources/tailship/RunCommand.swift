import ArgumentParser
import Logging
import Tailship

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent in the foreground (SIGTERM/SIGINT stop it cleanly, SIGHUP reloads the config)."
    )

    @OptionGroup var options: ConfigOptions

    @OptionGroup var logging: LogOptions

    func run() throws {
        // Before any secret is read: no core file or same-user ptrace can reveal it.
        ProcessHardening.disableCoreDumps()
        // Before any thread exists, so every thread inherits the blocked set.
        SignalWaiter.blockHandledSignals()
        logging.bootstrap(defaultLevel: .info)
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
