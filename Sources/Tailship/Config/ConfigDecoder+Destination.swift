#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// `destination:` — where events go and how they are batched, compressed and retried.
extension ConfigDecoder {
    static let destinationKeys = [
        "kind", "api", "url", "project_id", "auth", "token_env", "token_file", "path", "gzip", "gzip_level",
        "max_in_flight", "max_events_per_second", "ca_file", "batch", "timeout", "retry", "dead_letter_max_bytes",
        "allow_plaintext_http",
    ]
    static let authKeys = ["username", "secret_env", "secret_file"]
    static let batchKeys = ["max_events", "max_bytes", "flush_interval"]
    static let retryKeys = ["initial_backoff", "max_backoff"]

    mutating func decodeDestination(_ node: YAMLNode) -> DestinationConfig? {
        guard let fields = fields(of: node, for: "'destination'", known: Self.destinationKeys) else { return nil }
        var config = DestinationConfig()
        // Kind-specific rules only make sense when the kind itself is valid.
        var kind: DestinationKind? = ConfigDefaults.kind
        var api: IngestionEndpoint? = ConfigDefaults.api
        if let value = fields["kind"] { kind = enumeration(value, key: "kind", as: DestinationKind.self) }
        if let value = fields["api"] { api = enumeration(value, key: "api", as: IngestionEndpoint.self) }
        config.kind = kind ?? ConfigDefaults.kind
        config.api = api ?? ConfigDefaults.api

        let allowPlaintext = fields["allow_plaintext_http"].flatMap { bool($0, key: "allow_plaintext_http") } ?? false
        if let value = fields["url"], let url = baseURL(value, allowPlaintext: allowPlaintext) { config.url = url }
        let projectId = fields["project_id"].flatMap { nonEmptyString($0, key: "project_id") }
        config.projectId = projectId?.value
        let auth = fields["auth"].flatMap { decodeAuth($0) }
        config.auth = auth.map { AuthConfig(username: $0.username?.value, secret: $0.secret.value) }
        let token = exclusiveSecret(in: fields, envKey: "token_env", fileKey: "token_file")
        config.token = token?.value
        config.path = fields["path"].flatMap { nonEmptyString($0, key: "path") }?.value
        if let value = fields["gzip"], let gzip = bool(value, key: "gzip") { config.gzip = gzip }
        if let value = fields["gzip_level"],
            let level = integer(value, key: "gzip_level", range: ConfigDefaults.gzipLevelRange)
        {
            config.gzipLevel = level
        }
        if let value = fields["max_in_flight"],
            let count = integer(value, key: "max_in_flight", range: 1...ConfigDefaults.maxInFlightLimit)
        {
            config.maxInFlight = count
        }
        if let value = fields["max_events_per_second"],
            let rate = integer(value, key: "max_events_per_second", range: ConfigDefaults.maxEventsPerSecondRange)
        {
            config.maxEventsPerSecond = rate
        }
        // Like a secret, the file must be there for `run` (and `check`), not for `test`: an
        // unreadable CA bundle would fail every request, so it is refused up front.
        if let caFile = fields["ca_file"].flatMap({ nonEmptyString($0, key: "ca_file") }) {
            config.caFile = caFile.value
            if checkSecrets && access(caFile.value, R_OK) != 0 {
                report(caFile.mark, "'ca_file' \(caFile.value) cannot be read: \(String(cString: strerror(errno)))")
            }
        }
        if let value = fields["batch"], let batch = decodeBatch(value) { config.batch = batch }
        if let value = fields["timeout"], let timeout = duration(value, key: "timeout") {
            config.timeoutMs = timeout.value
        }
        if let value = fields["retry"], let retry = decodeRetry(value) { config.retry = retry }
        if let value = fields["dead_letter_max_bytes"],
            let bytes = size(value, key: "dead_letter_max_bytes", range: ConfigDefaults.deadLetterMaxBytesRange)
        {
            config.deadLetterMaxBytes = bytes
        }

        switch kind {
        case .mixpanel:
            guard let api else { break }
            switch api {
            case .import:
                if auth == nil, fields["auth"] == nil {
                    _ = required("auth", in: fields, reason: "needed for api: import")
                }
            case .track:
                if token == nil, fields["token_env"] == nil, fields["token_file"] == nil {
                    report(fields.mark, "missing required key 'token_env' or 'token_file' (needed for api: track)")
                }
            }
            if let username = auth?.username, projectId == nil {
                report(username.mark, "a service-account 'username' needs 'project_id' in 'destination'")
            }
            // Secrets are checked only where they are used (the import API authenticates with
            // `auth`, the track API with the token), so a kind: stdout dry run needs none.
            if checkSecrets, let secret = api == .import ? auth?.secret : token { checkSecret(secret) }
        case .file:
            if config.path == nil, fields["path"] == nil {
                _ = required("path", in: fields, reason: "needed for kind: file")
            }
            // Its directory must exist and be writable: the file is opened when shipping starts,
            // and a reload into a config that cannot open it would otherwise be refused only then.
            if checkPaths, let path = fields["path"].flatMap({ nonEmptyString($0, key: "path") }) {
                if let problem = WritableDirectory.problem(PathText.parent(of: path.value), creatable: false) {
                    report(path.mark, "the output file's directory cannot be used: \(problem)")
                }
            }
        case .stdout, nil:
            break
        }
        return config
    }

    /// `auth:` as written, with marks kept for the cross-key checks.
    private struct LocatedAuth {
        var username: Located<String>?
        var secret: Located<SecretSource>
    }

    private mutating func decodeAuth(_ node: YAMLNode) -> LocatedAuth? {
        guard let fields = fields(of: node, for: "'auth'", known: Self.authKeys) else { return nil }
        let username = fields["username"].flatMap { nonEmptyString($0, key: "username") }
        let secret = exclusiveSecret(in: fields, envKey: "secret_env", fileKey: "secret_file")
        if secret == nil, fields["secret_env"] == nil, fields["secret_file"] == nil {
            report(fields.mark, "missing required key 'secret_env' or 'secret_file' in 'auth'")
        }
        return secret.map { LocatedAuth(username: username, secret: $0) }
    }

    /// A secret named by exactly one of an environment-variable key and a file key.
    private mutating func exclusiveSecret(in fields: Fields, envKey: String, fileKey: String) -> Located<SecretSource>?
    {
        let env = fields[envKey].flatMap { nonEmptyString($0, key: envKey) }
        let file = fields[fileKey].flatMap { nonEmptyString($0, key: fileKey) }
        switch (env, file) {
        case (let env?, let file?):
            // Report at whichever comes second in the file.
            let second = (env.mark.line, env.mark.column) < (file.mark.line, file.mark.column) ? file.mark : env.mark
            report(second, "'\(envKey)' and '\(fileKey)' are exclusive; keep one")
            return nil
        case (let env?, nil):
            return Located(.env(env.value), at: env.mark)
        case (nil, let file?):
            return Located(.file(file.value), at: file.mark)
        case (nil, nil):
            return nil
        }
    }

    /// Reports a secret that cannot be resolved now; the value itself is dropped at once.
    private mutating func checkSecret(_ secret: Located<SecretSource>) {
        do throws(SecretError) {
            _ = try SecretResolver.resolve(secret.value, environment: environment)
        } catch {
            report(secret.mark, error.description)
        }
    }

    /// An `http(s)://host[:port]` URL without a path (nor its trailing slash), credentials or
    /// query; `http://` only to a loopback host or with `allow_plaintext_http` (docs/security.md).
    private mutating func baseURL(_ node: YAMLNode, allowPlaintext: Bool) -> String? {
        guard let text = nonEmptyString(node, key: "url") else { return nil }
        // Checked before anything that would quote the url back: the message must not hold the password.
        if URLRules.hasUserinfo(text.value) {
            report(
                text.mark,
                "'url' must not carry credentials ('user:password@'); put them in 'auth' (username, "
                    + "secret_env or secret_file), or the token in 'token_env' or 'token_file'")
            return nil
        }
        guard let url = URL(string: text.value), let scheme = url.scheme?.lowercased(),
            scheme == "https" || scheme == "http", let host = url.host, !host.isEmpty,
            url.query == nil, url.fragment == nil
        else {
            report(
                text.mark,
                "invalid url '\(SafeText.redactedURL(text.value))'; expected https://host (or http://host), without query"
            )
            return nil
        }
        if scheme == "http", !allowPlaintext, !URLRules.isLoopback(host) {
            report(
                text.mark,
                "'url' is plain http:// to '\(host)', which would send the secret in the clear; use https://, "
                    + "or set 'allow_plaintext_http: true' in 'destination' if the network to it is trusted")
            return nil
        }
        var value = text.value
        while value.hasSuffix("/") { value.removeLast() }
        // The API's endpoints hang off the host itself (`/import`, `/track`); a path here would
        // be requested as `<path>/import` and answered 404 on every attempt, forever.
        let path = url.path
        if !path.isEmpty && path != "/" {
            let bare = scheme + "://" + (url.port.map { "\(host):\($0)" } ?? host)
            let hint =
                ["/import", "/track", "/engage", "/groups"].contains(where: { value.hasSuffix($0) })
                ? " (tailship adds the endpoint itself; choose it with 'api')" : ""
            report(text.mark, "'url' must be the API's base URL without a path; use '\(bare)'\(hint)")
            return nil
        }
        return value
    }

    private mutating func decodeBatch(_ node: YAMLNode) -> BatchConfig? {
        guard let fields = fields(of: node, for: "'batch'", known: Self.batchKeys) else { return nil }
        var batch = ConfigDefaults.batch
        if let value = fields["max_events"],
            let count = integer(value, key: "max_events", range: 1...ConfigDefaults.maxEventsLimit)
        {
            batch.maxEvents = count
        }
        if let value = fields["max_bytes"],
            let bytes = size(value, key: "max_bytes", range: 1...ConfigDefaults.maxBytesLimit)
        {
            batch.maxBytes = bytes
        }
        if let value = fields["flush_interval"], let interval = duration(value, key: "flush_interval") {
            batch.flushIntervalMs = interval.value
        }
        return batch
    }

    private mutating func decodeRetry(_ node: YAMLNode) -> RetryConfig? {
        guard let fields = fields(of: node, for: "'retry'", known: Self.retryKeys) else { return nil }
        var retry = ConfigDefaults.retry
        let initial = fields["initial_backoff"].flatMap { duration($0, key: "initial_backoff") }
        let maximum = fields["max_backoff"].flatMap { duration($0, key: "max_backoff") }
        retry.initialBackoffMs = initial?.value ?? retry.initialBackoffMs
        guard let maximum else {
            if let initial, initial.value > retry.maxBackoffMs {
                report(initial.mark, "'initial_backoff' must be at most 'max_backoff' (\(retry.maxBackoffMs)ms)")
                return nil
            }
            return retry
        }
        guard maximum.value >= retry.initialBackoffMs else {
            report(
                maximum.mark,
                "'max_backoff' (\(maximum.value)ms) must be at least 'initial_backoff' (\(retry.initialBackoffMs)ms)")
            return nil
        }
        retry.maxBackoffMs = maximum.value
        return retry
    }
}
