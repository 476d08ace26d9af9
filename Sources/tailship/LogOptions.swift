import ArgumentParser
import Logging
import Tailship

/// `--log-level` and `--log-format`, on every command that logs (`run`, `import`).
struct LogOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: info; import: warning).")
    var logLevel: String?

    @Option(help: "Log line format: logfmt or json.")
    var logFormat: String = LogOutputFormat.logfmt.rawValue

    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("unknown log level '\(logLevel)'")
        }
        guard LogOutputFormat(rawValue: logFormat) != nil else {
            throw ValidationError("unknown log format '\(logFormat)'; expected logfmt or json")
        }
    }

    /// Sets up the stderr log handler; `defaultLevel` applies without `--log-level`.
    func bootstrap(defaultLevel: Logger.Level) {
        let level = logLevel.flatMap(Logger.Level.init(rawValue:)) ?? defaultLevel
        let format = LogOutputFormat(rawValue: logFormat) ?? .logfmt
        LoggingSystem.bootstrap { StderrLogHandler(label: $0, level: level, format: format) }
    }
}
