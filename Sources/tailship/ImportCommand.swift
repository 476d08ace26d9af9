import ArgumentParser
import Logging
import Tailship

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract:
            "Backfill existing files (plain or .gz) once through the rules and shipper; resumable, exits when done."
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var logging: LogOptions

    @Option(help: "The source whose rules to apply (default: the only source, or the one whose paths match the files).")
    var source: String?

    @Flag(help: "Read the files through the rules and print what an import would send, sending and writing nothing.")
    var dryRun = false

    @Argument(help: "The files to import, in order.")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one file to import") }
    }

    func run() throws {
        // Before any secret is read: no core file or same-user ptrace can reveal it.
        ProcessHardening.disableCoreDumps()
        SignalWaiter.blockHandledSignals()
        logging.bootstrap(defaultLevel: .warning)
        let plan: AgentPlan
        do {
            // A dry run sends and writes nothing, so it needs no secrets and no state directory.
            plan = try AgentPlan.load(
                path: options.path, environment: ProcessInfo.processInfo.environment, checkSecrets: !dryRun,
                checkStateDir: !dryRun)
        } catch {
            Stderr.write(error.description)
            throw Exit.invalid
        }
        let index = try SourceChoice.index(of: source, for: files, in: plan.config)
        try InputCheck.readable(files)
        let backfill = Backfill(plan: plan, sourceIndex: index, logger: Logger(label: "tailship.import"))
        if dryRun { return try printDryRun(backfill) }
        // Ctrl-C or SIGTERM: stop reading, let in-flight events finish, keep the checkpoint.
        OwnedThread.start(name: "tailship-signals") {
            let signals = SignalWaiter()
            while true {
                if case .terminate = signals.wait(timeoutMs: 1000) {
                    backfill.requestStop()
                    return
                }
            }
        }
        let bar = ProgressBar(enabled: isatty(STDERR_FILENO) == 1)
        let outcome: Backfill.Outcome
        let summary: Backfill.Summary
        do {
            (outcome, summary) = try backfill.run(files: files) { bar.show($0) }
        } catch {
            bar.finish()
            Stderr.write("import failed: \(error)")
            throw Exit.runtime
        }
        bar.finish()
        switch outcome {
        case .completed:
            print(summary.line)
        case .interrupted:
            Stderr.write("import interrupted; run the same command again to resume")
            throw Exit.runtime
        }
    }

    /// Prints, per file, where the import would start and what it would send; then the totals.
    private func printDryRun(_ backfill: Backfill) throws {
        var shown = 0
        let planned: [Backfill.PlannedFile]
        do {
            planned = try backfill.dryRun(files: files) { problem in
                shown += 1
                if shown <= Self.problemsShown { Stderr.write(problem) }
            }
        } catch {
            Stderr.write("cannot read input: \(error)")
            throw Exit.invalid
        }
        if shown > Self.problemsShown { Stderr.write("(\(shown - Self.problemsShown) more invalid events)") }
        var total = DryRun.Summary()
        for file in planned {
            print(file.line)
            total.lines += file.summary.lines
            if let lines = file.summary.linesInRecords { total.linesInRecords = (total.linesInRecords ?? 0) + lines }
            total.events += file.summary.events
            total.invalid += file.summary.invalid
            total.unmatched += file.summary.unmatched
            total.dropped += file.summary.dropped
        }
        print("dry run: would import \(files.count) file(s): \(DryRun.counts(total)); nothing sent")
    }

    static let problemsShown = 20
}

/// Checks every input before anything is read or sent: an unreadable file, or one named `.gz`
/// that is not gzip, stops the command up front.
enum InputCheck {
    static func readable(_ files: [String]) throws {
        for file in files {
            guard access(file, R_OK) == 0 else {
                Stderr.write("\(file): cannot read: \(String(cString: strerror(errno)))")
                throw Exit.invalid
            }
            do {
                _ = try GzipFileReader.detect(path: file)
            } catch {
                Stderr.write("\(error)")
                throw Exit.invalid
            }
        }
    }
}

/// `--source NAME`, or the source whose paths match the files (`SourceSelection`).
enum SourceChoice {
    static func index(of name: String?, for files: [String], in config: AgentConfig) throws -> Int {
        do {
            return try SourceSelection.index(named: name, for: files, in: config)
        } catch {
            Stderr.write(error.description)
            throw Exit.invalid
        }
    }
}

/// A one-line progress display on a terminal's stderr; silent when stderr is not a terminal.
final class ProgressBar {
    private let enabled: Bool
    private var shown = false

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ progress: Backfill.Progress) {
        guard enabled else { return }
        let fraction = progress.bytesTotal == 0 ? 1 : min(1, Double(progress.bytesRead) / Double(progress.bytesTotal))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let name = progress.file.split(separator: "/").last.map(String.init) ?? progress.file
        let percent = String(Int(fraction * 100))
        let line =
            "\r[\(bar)] \(String(repeating: " ", count: 3 - percent.count))\(percent)%  "
            + "file \(progress.fileIndex + 1)/\(progress.fileCount) \(name)  \(progress.lines) lines  "
            + "\(progress.eventsDelivered) events delivered\u{1B}[K"
        TextOutput.standardError(line)
        shown = true
    }

    func finish() {
        if shown { TextOutput.standardError("\n") }
    }
}
