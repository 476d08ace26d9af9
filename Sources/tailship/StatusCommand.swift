import ArgumentParser
import Tailship

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show whether the agent runs, the shipper's state, files it cannot open, and each file's checkpoint.",
        discussion: "--json prints the same as one JSON object (docs/operations.md lists its fields)."
    )

    @OptionGroup var options: ConfigOptions
    @Flag(name: .long, help: "Print one JSON object, for scripts.") var json = false

    func run() throws {
        let config: AgentConfig
        do {
            config = try ConfigLoader.load(path: options.path, checkSecrets: false)
        } catch {
            Stderr.write(error.description)
            throw Exit.invalid
        }
        do {
            var report = try StatusReport(stateDir: config.stateDir, sources: config.sources.map { TailSource($0) })
            // Dead letters are events lost to analytics for good: worth a line of their own.
            report.deadLetters = (
                try DeadLetterWriter.count(stateDir: config.stateDir), DeadLetterWriter.path(stateDir: config.stateDir)
            )
            print(json ? report.json() : report.text())
        } catch {
            Stderr.write("\(error)")
            throw Exit.runtime
        }
    }
}
