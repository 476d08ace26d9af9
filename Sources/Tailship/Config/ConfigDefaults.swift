/// Every default of the configuration, in one place; `agent.yaml.example` and
/// `docs/configuration.md` list the same values.
public enum ConfigDefaults {
    public static let stateDir = "/var/lib/tailship"
    public static let configPath = "/etc/tailship/agent.yaml"
    public static let configEnv = "TAILSHIP_CONFIG"
    public static let url = "https://api.mixpanel.com"
    public static let gzip = true
    public static let gzipLevel = 1
    public static let maxInFlight = 4
    /// Upper bound for `max_in_flight`: more concurrent requests only earn 429s from the API.
    public static let maxInFlightLimit = 64
    /// Bounds for `max_events_per_second` (no default: unlimited). Mixpanel's documented project
    /// limit is about 30,000 events/s (2 GB of JSON a minute); the top leaves room for small events.
    public static let maxEventsPerSecondRange = 1...10_000_000
    /// zlib's compression levels.
    public static let gzipLevelRange = 1...9
    /// Mixpanel accepts at most 2000 events per request (Mixpanel's Ingestion API docs).
    public static let batch = BatchConfig(maxEvents: 2000, maxBytes: 2 * 1024 * 1024, flushIntervalMs: 1000)
    public static let maxEventsLimit = 2000
    /// 10 MiB is the documented uncompressed cap; 2 MiB is the safe default (Mixpanel's Ingestion API docs).
    public static let maxBytesLimit = 10 * 1024 * 1024
    public static let timeoutMs = 30_000
    /// Mixpanel's advice: start at 2 s, double to 60 s, add 1-5 s jitter (Mixpanel's Ingestion API docs).
    public static let retry = RetryConfig(initialBackoffMs: 2000, maxBackoffMs: 60_000)
    public static let maxLineBytes = 1024 * 1024
    /// Upper bound for `max_line_bytes`: a line is held whole in memory.
    public static let maxLineBytesLimit = 64 * 1024 * 1024
    /// `multiline.max_lines`: as many lines as a deep stack trace has, with room to spare.
    public static let multilineMaxLines = 500
    public static let multilineMaxLinesRange = 1...100_000
    /// `multiline.timeout`: a record is complete when no line joined it for this long. Long enough
    /// for a writer that flushes a trace in pieces, short enough not to hold an event back.
    public static let multilineTimeoutMs = 1000
    public static let multilineTimeoutRangeMs = 10...3_600_000
    /// `max_open_files` of a source: idle files beyond it are closed and reopened on change.
    public static let maxOpenFiles = 256
    /// Bounds for `max_open_files`.
    public static let maxOpenFilesRange = 1...1_000_000
    /// Bounds for a source's `poll_interval` (no default: inotify is used unless it is set).
    public static let pollIntervalRangeMs = 100...3_600_000
    /// `destination.kind` when omitted.
    public static let kind = DestinationKind.mixpanel
    /// `destination.api` when omitted.
    public static let api = IngestionEndpoint.import
    /// `start_at` of a source when omitted: only lines written from now on.
    public static let startAt = StartAt.end
    /// `format` of a source when omitted.
    public static let format = LogFormat.regex
    /// `type` of a property when omitted (or written as a bare template).
    public static let propertyType = PropertyType.string
    /// Bound on the size of the configuration file itself.
    public static let maxConfigFileBytes = 4 * 1024 * 1024
    public static let timezone = "UTC"
    /// `destination.dead_letter_max_bytes`: the dead-letter file rotates past this size.
    public static let deadLetterMaxBytes = 64 * 1024 * 1024
    /// Bounds for `dead_letter_max_bytes`: at least one sizeable letter, at most 1 GiB per file.
    public static let deadLetterMaxBytesRange = 4096...(1024 * 1024 * 1024)
    /// Rotated dead-letter files kept (`.1` … `.3`); the oldest is deleted beyond that.
    public static let deadLetterRotations = 3
}
