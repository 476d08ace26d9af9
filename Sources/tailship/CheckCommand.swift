import ArgumentParser
import Tailship

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

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
        let plan: AgentPlan
        do {
            plan = try AgentPlan.load(
                path: options.path, environment: ProcessInfo.processInfo.environment, checkPaths: true)
        } catch {
            Stderr.write(error.description)
            throw Exit.invalid
        }
        for warning in plan.unmatchedSourceWarnings() + plan.patternWarnings() { Stderr.write(warning) }
        // The sources' `tests:`, like a test runner: each failure at its line, then the count.
        let tests = plan.runRuleTests()
        for failure in tests.failures { Stderr.write(failure) }
        if tests.total > 0 { Stderr.write("tests: \(tests.passed) passed, \(tests.failures.count) failed") }
        guard tests.failures.isEmpty else { throw Exit.invalid }
        print("ok")
    }
}

enum Stderr {
    static func write(_ text: String) {
        TextOutput.standardError(text.hasSuffix("\n") ? text : text + "\n")
    }
}
