/// A 1-based position in a configuration file, as libyaml reports it (plus one).
public struct SourceMark: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// A configuration value together with where it was written, so later checks (a regex that
/// does not compile, a template naming a missing field) can point at the exact spot.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var mark: SourceMark

    public init(_ value: Value, at mark: SourceMark) {
        self.value = value
        self.mark = mark
    }
}

extension Located: Equatable where Value: Equatable {}

/// The validated configuration of one agent: what `tailship run` executes.
public struct AgentConfig: Sendable {
    /// Path of the file this configuration was read from (used in every error message).
    public var file: String
    public var stateDir: String
    public var destination: DestinationConfig
    public var sources: [SourceConfig]
    /// The opt-in `/metrics` and `/healthz` endpoint; nil when not configured.
    public var metrics: MetricsConfig?

    public init(file: String, stateDir: String, destination: DestinationConfig, sources: [SourceConfig]) {
        self.file = file
        self.stateDir = stateDir
        self.destination = destination
        self.sources = sources
    }
}

/// Where a secret comes from. Secrets never live in the YAML itself.
public enum SecretSource: Sendable, Equatable {
    case env(String)
    case file(String)
}

public enum DestinationKind: String, Sendable, CaseIterable {
    case mixpanel, stdout, file
}

public enum IngestionEndpoint: String, Sendable, CaseIterable {
    case `import`, track
}

public struct AuthConfig: Sendable, Equatable {
    /// Service-account user name; nil means the secret is a project secret (or token) used as
    /// the Basic user name with an empty password.
    public var username: String?
    public var secret: SecretSource

    public init(username: String?, secret: SecretSource) {
        self.username = username
        self.secret = secret
    }
}

public struct BatchConfig: Sendable, Equatable {
    public var maxEvents: Int
    /// Cap on the uncompressed request body, in bytes.
    public var maxBytes: Int
    public var flushIntervalMs: Int

    public init(maxEvents: Int, maxBytes: Int, flushIntervalMs: Int) {
        self.maxEvents = maxEvents
        self.maxBytes = maxBytes
        self.flushIntervalMs = flushIntervalMs
    }
}

public struct RetryConfig: Sendable, Equatable {
    public var initialBackoffMs: Int
    public var maxBackoffMs: Int

    public init(initialBackoffMs: Int, maxBackoffMs: Int) {
        self.initialBackoffMs = initialBackoffMs
        self.maxBackoffMs = maxBackoffMs
    }
}

public struct DestinationConfig: Sendable {
    public var kind: DestinationKind
    public var api: IngestionEndpoint
    /// Base URL without a trailing slash, e.g. `https://api-eu.mixpanel.com`.
    public var url: String
    public var projectId: String?
    public var auth: AuthConfig?
    /// Project token source, needed for `api: track`.
    public var token: SecretSource?
    /// Output path for `kind: file`.
    public var path: String?
    public var gzip: Bool
    /// zlib level 1-9; compression is the CPU ceiling, so the default is 1.
    public var gzipLevel: Int
    public var maxInFlight: Int
    /// `max_events_per_second`: the rate budget of requests to the API (nil: unlimited).
    public var maxEventsPerSecond: Int?
    public var caFile: String?
    public var batch: BatchConfig
    public var timeoutMs: Int
    public var retry: RetryConfig
    /// Size past which `<state_dir>/dead-letters.ndjson` rotates (`dead_letter_max_bytes`).
    public var deadLetterMaxBytes: Int

    public init(
        kind: DestinationKind = .mixpanel, api: IngestionEndpoint = .import, url: String = ConfigDefaults.url,
        projectId: String? = nil, auth: AuthConfig? = nil, token: SecretSource? = nil, path: String? = nil,
        gzip: Bool = ConfigDefaults.gzip, gzipLevel: Int = ConfigDefaults.gzipLevel,
        maxInFlight: Int = ConfigDefaults.maxInFlight, maxEventsPerSecond: Int? = nil, caFile: String? = nil,
        batch: BatchConfig = ConfigDefaults.batch, timeoutMs: Int = ConfigDefaults.timeoutMs,
        retry: RetryConfig = ConfigDefaults.retry, deadLetterMaxBytes: Int = ConfigDefaults.deadLetterMaxBytes
    ) {
        self.kind = kind
        self.api = api
        self.url = url
        self.projectId = projectId
        self.auth = auth
        self.token = token
        self.path = path
        self.gzip = gzip
        self.gzipLevel = gzipLevel
        self.maxInFlight = maxInFlight
        self.maxEventsPerSecond = maxEventsPerSecond
        self.caFile = caFile
        self.batch = batch
        self.timeoutMs = timeoutMs
        self.retry = retry
        self.deadLetterMaxBytes = deadLetterMaxBytes
    }
}

public enum StartAt: String, Sendable, CaseIterable {
    case end, beginning
}

/// `invalid_utf8`: what a value read from the line that is not valid UTF-8 becomes.
public enum InvalidUTF8: String, Sendable, CaseIterable {
    /// Each invalid sequence becomes U+FFFD and the event is sent (counted).
    case replace
    /// The event is invalid and dead-lettered (`local_validation`), as the API would refuse it.
    case deadLetter = "dead_letter"
}

public enum LogFormat: String, Sendable, CaseIterable {
    case regex, json, logfmt
    case nginxCombined = "nginx_combined"
    case apacheCombined = "apache_combined"
    case syslog
}

public enum PropertyType: String, Sendable, CaseIterable {
    case string, int, float, bool
}

/// `time: { field: ts, format: iso8601 }`; the format is `iso8601`, `unix`, `unix_ms` or a
/// strptime format.
public struct TimeSpec: Sendable {
    public var field: Located<String>
    public var format: Located<String>

    public init(field: Located<String>, format: Located<String>) {
        self.field = field
        self.format = format
    }
}

/// One entry of a rule's `properties:` map. A bare scalar is a template of type string.
public struct PropertySpec: Sendable {
    public var name: Located<String>
    public var value: Located<String>
    public var type: PropertyType

    public init(name: Located<String>, value: Located<String>, type: PropertyType) {
        self.name = name
        self.value = value
        self.type = type
    }
}

/// One `where:` condition: the named field's value must match the pattern.
public struct WhereSpec: Sendable {
    public var field: Located<String>
    public var pattern: Located<String>

    public init(field: Located<String>, pattern: Located<String>) {
        self.field = field
        self.pattern = pattern
    }
}

/// A rule as written; `RuleCompiler` turns it into a matcher and reports what is wrong.
public struct RuleConfig: Sendable {
    public var name: Located<String>
    public var match: Located<String>?
    public var conditions: [WhereSpec]
    public var event: Located<String>?
    public var distinctId: Located<String>?
    public var time: TimeSpec?
    public var insertId: Located<String>?
    public var ip: Located<String>?
    public var properties: [PropertySpec]
    public var drop: Bool
    /// `time: { from: read }`: the event's time is when the line is read (`time` is then nil).
    public var timeFromRead = false
    /// Position of the rule's mapping, for problems that concern the rule as a whole.
    public var mark: SourceMark

    public init(
        name: Located<String>, match: Located<String>? = nil, conditions: [WhereSpec] = [],
        event: Located<String>? = nil, distinctId: Located<String>? = nil, time: TimeSpec? = nil,
        insertId: Located<String>? = nil, ip: Located<String>? = nil, properties: [PropertySpec] = [],
        drop: Bool = false, mark: SourceMark
    ) {
        self.name = name
        self.match = match
        self.conditions = conditions
        self.event = event
        self.distinctId = distinctId
        self.time = time
        self.insertId = insertId
        self.ip = ip
        self.properties = properties
        self.drop = drop
        self.mark = mark
    }
}

public struct SourceConfig: Sendable {
    public var name: String
    public var paths: [String]
    public var exclude: [String]
    public var startAt: StartAt
    /// IANA zone name (e.g. `Europe/Paris`) used for times without an offset.
    public var timezone: Located<String>
    public var maxLineBytes: Int
    /// How many of the source's idle files keep a descriptor open (`max_open_files`).
    public var maxOpenFiles: Int
    /// `poll_interval` in milliseconds: the source's files are checked by `stat` this often and
    /// inotify is not relied on for them (NFS and other mounts where inotify sees nothing).
    public var pollIntervalMs: Int?
    /// `tests`: lines and the events the rules must make of them (run by `check`).
    public var tests: [RuleTestSpec] = []
    /// `invalid_utf8`: replace invalid sequences (default) or dead-letter the event.
    public var invalidUTF8: InvalidUTF8 = .replace
    /// `link_targets`: directories outside the source's own that links matched by its
    /// wildcards may lead into (container layouts: `/var/log/containers` → `/var/log/pods`).
    public var linkTargets: [String] = []
    /// `multiline`: how lines join into records before the rules (nil: each line is a record).
    public var multiline: MultilineConfig?
    public var format: LogFormat
    /// False when `format:` was not a known format (already reported): which fields a line
    /// has is then unknown, so rules are not checked against it (no cascade of false errors).
    public var formatKnown = true
    public var rules: [RuleConfig]
    public var mark: SourceMark

    public init(
        name: String, paths: [String], exclude: [String] = [], startAt: StartAt = .end,
        timezone: Located<String>, maxLineBytes: Int = ConfigDefaults.maxLineBytes,
        maxOpenFiles: Int = ConfigDefaults.maxOpenFiles, pollIntervalMs: Int? = nil,
        format: LogFormat = .regex, rules: [RuleConfig], mark: SourceMark
    ) {
        self.maxOpenFiles = maxOpenFiles
        self.pollIntervalMs = pollIntervalMs
        self.name = name
        self.paths = paths
        self.exclude = exclude
        self.startAt = startAt
        self.timezone = timezone
        self.maxLineBytes = maxLineBytes
        self.format = format
        self.rules = rules
        self.mark = mark
    }
}
