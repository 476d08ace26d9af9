/// The built-in formats that are named-group regexes over well-known log layouts.
///
/// Field names (also in docs/rules.md):
/// - `nginx_combined` and `apache_combined` (`%h %l %u %t "%r" %>s %b "%{Referer}i"
///   "%{User-agent}i"`): `remote_addr`, `ident`, `remote_user`, `time_local`
///   (`28/Nov/2026:04:59:15 +0000`, read with `%d/%b/%Y:%H:%M:%S %z`), `request`, `method`,
///   `path`, `protocol`, `status`, `body_bytes_sent`, `http_referer`, `http_user_agent`.
///   Fields the server wrote as `-` keep the value `-`. Extra fields after the user agent are
///   allowed (nginx `log_format` extensions) and ignored.
/// - `syslog` (RFC 3164 as written by rsyslog/syslog-ng to files): `pri` (when present),
///   `timestamp` (`Nov 28 04:59:15`, read with `%b %e %H:%M:%S`, or an RFC 3339 time, read with
///   `iso8601`), `hostname`, `app_name`, `procid` (the `[pid]`, when present), `message`.
enum LogPresets {
    static let combined =
        #"^(?<remote_addr>\S+) (?<ident>\S+) (?<remote_user>\S+) \[(?<time_local>[^\]]+)\] "#
        + #""(?<request>(?<method>[A-Za-z]+) (?<path>[^ "]*)(?: (?<protocol>[^ "]*))?|[^"]*)" "#
        + #"(?<status>\d{3}) (?<body_bytes_sent>\d+|-)"#
        // Possessive (`++`, `*+`): a quoted field gives back nothing, so a long referer or user
        // agent costs no backtracking frames (a lazy or greedy form ran out of the JIT stack on
        // an 8 KB user agent).
        + #"(?: "(?<http_referer>(?:[^"\\]++|\\.)*+)" "(?<http_user_agent>(?:[^"\\]++|\\.)*+)")?"#

    static let syslog =
        #"^(?:<(?<pri>\d{1,3})>)?"#
        + #"(?<timestamp>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T\S+) "#
        + #"(?<hostname>\S+) "#
        + #"(?:(?<app_name>[^\s:\[]+)(?:\[(?<procid>[^\]]*)\])?: ?)?"#
        + #"(?<message>.*)$"#

    /// The preset regex for `format`, or nil for formats that are not regex presets.
    static func pattern(for format: LogFormat) -> String? {
        switch format {
        case .nginxCombined, .apacheCombined: return combined
        case .syslog: return syslog
        case .regex, .json, .logfmt: return nil
        }
    }
}
