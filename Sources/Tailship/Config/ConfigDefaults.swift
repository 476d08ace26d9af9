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
    /// Mixpanel accepts at most 2000 events per request (INGESTION_API.md 2.3).
    public static let batch = BatchConfig(maxEvents: 2000, maxBytes: 2 * 1024 * 1024, flushIntervalMs: 1000)
    public static let maxEventsLimit = 2000
    /// 10 MiB is the documented uncompressed cap; 2 MiB is the safe default (INGESTION_API.md 8.1).
    public static let maxBytesLimit = 10 * 1024 * 1024
    public static let timeoutMs = 30_000
    /// Mixpanel's advice: start at 2 s, double to 60 s, add 1-5 s jitter (INGESTION_API.md 2.6).
    public static let retry = RetryConfig(initialBackoffMs: 2000, maxBackoffMs: 60_000)
    public static let maxLineBytes = 1024 * 1024
    public static let timezone = "UTC"
}
