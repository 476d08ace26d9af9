import ArgumentParser
import Foundation
import Tailship

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show, per tracked file: path, identity, checkpointed offset, current size and bytes behind."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config: AgentConfig
        do {
            config = try ConfigLoader.load(path: options.path, checkSecrets: false)
        } catch {
            Stderr.write(error.description)
            throw Exit.invalid
        }
        do {
            print(try StatusReport(stateDir: config.stateDir, sources: config.sources.map(TailSource.init)).table())
            // Dead letters are events lost to analytics for good: worth a line of their own.
            let letters = try DeadLetterWriter.count(stateDir: config.stateDir)
            print("\nDEAD LETTERS  \(letters)  \(DeadLetterWriter.path(stateDir: config.stateDir))")
        } catch {
            Stderr.write("\(error)")
            throw Exit.runtime
        }
    }
}
