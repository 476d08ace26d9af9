/// `multiline:` of a source: how its lines join into records (a stack trace with its message)
/// before the rules see them. See docs/rules.md, "Multiline records".
public struct MultilineConfig: Sendable {
    /// Which lines a pattern picks out.
    public enum Boundary: String, Sendable {
        /// A line matching the pattern begins a record; any other continues the one in progress.
        case start
        /// A line matching the pattern continues the record in progress; any other begins one.
        case continuation
    }

    public var boundary: Boundary
    /// The pattern as written (or the preset's), positioned for problems.
    public var pattern: Located<String>
    /// The preset it came from, if any (its pattern is built in).
    public var preset: MultilinePreset?
    /// A record holds at most this many lines; the rest of its lines are cut (flagged truncated).
    public var maxLines: Int
    /// A record holds at most this many bytes (its lines and the `\n` between them).
    public var maxBytes: Int
    /// A record with no new line for this long is complete (the writer may never add one).
    public var timeoutMs: Int

    public init(
        boundary: Boundary, pattern: Located<String>, preset: MultilinePreset? = nil,
        maxLines: Int = ConfigDefaults.multilineMaxLines, maxBytes: Int = ConfigDefaults.maxLineBytes,
        timeoutMs: Int = ConfigDefaults.multilineTimeoutMs
    ) {
        self.boundary = boundary
        self.pattern = pattern
        self.preset = preset
        self.maxLines = maxLines
        self.maxBytes = maxBytes
        self.timeoutMs = timeoutMs
    }
}

/// Built-in multiline patterns for the traces runtimes print.
public enum MultilinePreset: String, Sendable, CaseIterable {
    /// A Java (or Kotlin, Scala) stack trace after its log line: the exception's class line
    /// (`java.lang.IllegalStateException: boom`), `at` frames, `... N more`, `Caused by:` and
    /// `Suppressed:` sections continue the record.
    case java
    /// A Python traceback after its log line: `Traceback (most recent call last):`, indented
    /// `File` and source lines, blank lines and the chaining sentences between tracebacks, and
    /// the final `SomeError: message` line continue the record.
    case python

    /// Both presets pick out continuation lines: a log line that begins a record has no shape
    /// in common across applications, a trace line does.
    public var boundary: MultilineConfig.Boundary { .continuation }

    public var pattern: String {
        switch self {
        case .java:
            // A qualified class name ending in Exception/Error/Throwable, then `:` or the end.
            return #"^(?:\s+at\s|\s+\.\.\. \d+ (?:more|common frames omitted)|\s*(?:Caused by|Suppressed): |"#
                + #"(?:[\w$]+\.)+[\w$]*(?:Exception|Error|Throwable)(?::|$))"#
        case .python:
            return #"^(?:Traceback \(most recent call last\):|\s|$|During handling of the above exception|"#
                + #"The above exception was the direct cause|[A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|"#
                + #"Interrupt|Iteration)(?::|$))"#
        }
    }
}
