import ArgumentParser
import Tailship

@main
struct TailshipCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tailship",
        abstract: "Tails log files, turns lines into product events and ships them to Mixpanel.",
        version: TailshipVersion.current,
        subcommands: []
    )
}
