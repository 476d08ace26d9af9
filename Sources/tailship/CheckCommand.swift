import ArgumentParser
import Foundation
import Tailship

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract:
            "Validate the configuration without running: prints ok, or every problem as FILE:LINE:COLUMN: message."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        // Whether or not the rest is valid: who can change the file matters either way.
        if let warning = ConfigFileMode.warning(path: options.path) { Stderr.write(warning) }
        do {
            let plan = try AgentPlan.load(
                path: options.path, environment: ProcessInfo.processInfo.environment, checkPaths: true)
            for warning in plan.unmatchedSourceWarnings() + plan.patternWarnings() { Stderr.write(warning) }
            print("ok")
        } catch {
            Stderr.write(error.description)
            throw Exit.invalid
        }
    }
}

enum Stderr {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
