import ArgumentParser
import Tailship

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Dry run: print, one per line, the exact JSON of the events the rules make of the lines."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "The source whose rules to apply (default: the only source, or the one whose paths match the files).")
    var source: String?

    @Flag(help: "On stderr, for each line, which rule matched or why each rule did not.")
    var explain = false

    @Argument(help: "Log files to read (default: standard input).")
    var files: [String] = []

    func run() throws {
        let plan: AgentPlan
        do {
            // A dry run sends nothing, so it needs no secrets.
            plan = try AgentPlan.load(
                path: options.path, environment: ProcessInfo.processInfo.environment,
                checkSecrets: false)
        } catch {
            Stderr.write(error.description)
            throw Exit.invalid
        }
        let index = try SourceChoice.index(of: source, for: files, in: plan.config)
        try InputCheck.readable(files)
        let dryRun = DryRun(
            plan: plan, sourceIndex: index, explain: explain,
            write: Stdout.write, err: { Stderr.write($0) })
        var summary = DryRun.Summary()
        let started = Date()
        do {
            if files.isEmpty {
                try dryRun.run(.standardInput, summary: &summary)
            } else {
                for file in files { try dryRun.run(.file(file), summary: &summary) }
            }
        } catch {
            Stderr.write("cannot read input: \(error)")
            throw Exit.invalid
        }
        // On stderr, so stdout stays exactly the events; a rule set that makes invalid events
        // fails the command (a CI check of the rules).
        Stderr.write(summary.report(rules: dryRun.ruleNames, seconds: Date().timeIntervalSince(started)))
        if summary.invalid > 0 { throw Exit.invalid }
    }
}

/// Standard output as bytes, unbuffered: `DryRun` hands over large chunks of whole lines.
enum Stdout {
    static func write(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(STDOUT_FILENO, p, left)
            if n < 0 && errno == EINTR { continue }
            // A closed pipe or a full disk: the rest cannot be written (as `print` would lose it).
            guard n > 0 else { return }
            p += n
            left -= n
        }
    }
}
