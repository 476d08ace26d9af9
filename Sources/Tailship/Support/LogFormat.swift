import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// swift-log backend writing one logfmt-style line per record to stderr:
/// `2026-11-28T04:59:15.481Z info shipping paused batch.events=2000 http.status=401`.
/// systemd's journal keeps stderr, so this is all a daemon needs. With `format: .json`, one JSON
/// object per line instead (`LogFormat+JSON.swift`).
public struct StderrLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let format: LogOutputFormat

    public init(label: String, level: Logger.Level = .info, format: LogOutputFormat = .logfmt) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let line =
            switch format {
            case .logfmt: Self.line(level: event.level, message: "\(event.message)", metadata: merged)
            case .json:
                Self.jsonLine(
                    level: event.level, message: "\(event.message)", metadata: merged, timestamp: UTCTimestamp.now())
            }
        TextOutput.standardError(line)
    }

    /// One record as its line, newline included. Messages and values carry file names, log
    /// text and the server's words: every control character in them is escaped, so one record
    /// is always one line and nothing reaches a terminal as an escape sequence.
    static func line(level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var line = "\(UTCTimestamp.now()) \(level) \(SafeText.escapingControls(message))"
        for key in metadata.keys.sorted() {
            line += " \(SafeText.escapingControls(key))=\(quoted("\(metadata[key]!)"))"
        }
        return line + "\n"
    }

    /// Values with spaces, quotes, `=` or control characters are quoted (backslash escapes,
    /// controls as in `SafeText.escapingControls`) so the line stays machine-splittable.
    static func quoted(_ value: String) -> String {
        guard
            value.isEmpty
                || value.unicodeScalars.contains(where: {
                    $0 == " " || $0 == "\"" || $0 == "=" || SafeText.isControl($0)
                })
        else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case _ where SafeText.isControl(scalar): out += SafeText.escape(scalar)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
