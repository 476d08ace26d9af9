import ArgumentParser
import Tailship

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

@main
struct TailshipCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tailship",
        abstract: "Tails log files, turns lines into product events and ships them to Mixpanel.",
        version: TailshipVersion.current,
        subcommands: [RunCommand.self, CheckCommand.self, TestCommand.self, StatusCommand.self, ImportCommand.self]
    )
}

/// `-c`, shared by every command.
struct ConfigOptions: ParsableArguments {
    @Option(
        name: [.customShort("c"), .long],
        help: "Configuration file (default: $TAILSHIP_CONFIG, then /etc/tailship/agent.yaml).")
    var config: String?

    var path: String { ConfigPath.resolve(explicit: config, environment: ProcessInfo.processInfo.environment) }
}

/// Exit codes of the contract: 1 for invalid config or input, 2 for a runtime failure.
enum Exit {
    static let invalid = ExitCode(1)
    static let runtime = ExitCode(2)
}
