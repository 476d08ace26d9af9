import Foundation
import Testing

@testable import Tailship

@Suite struct ConfigLoaderTests {
    /// Like a secret, `ca_file` must be readable for `run` and `check` (every request would
    /// fail without it), and is named with its position; `test` does not need it.
    @Test func anUnreadableCAFileIsAProblemWhereSecretsAre() throws {
        let text = """
            destination:
              url: https://api.mixpanel.com
              project_id: "1"
              auth: { secret_env: S }
              ca_file: /nonexistent/private-ca.pem
            sources: [{ name: a, paths: ["/x/*.log"], rules: [{ name: r, match: 'x', event: E, distinct_id: d, drop: true }] }]
            """
        #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(text: text, file: "a.yaml", environment: ["S": "s"])
        }
        do {
            _ = try ConfigLoader.parse(text: text, file: "a.yaml", environment: ["S": "s"])
        } catch {
            #expect(
                error.problems.map(\.description) == [
                    "a.yaml:5:12: 'ca_file' /nonexistent/private-ca.pem cannot be read: No such file or directory"
                ])
        }
        let dryRun = try ConfigLoader.parse(text: text, file: "a.yaml", environment: [:], checkSecrets: false)
        #expect(dryRun.destination.caFile == "/nonexistent/private-ca.pem")
        let readable = text.replacingOccurrences(of: "/nonexistent/private-ca.pem", with: "/dev/null")
        #expect(
            try ConfigLoader.parse(text: readable, file: "a.yaml", environment: ["S": "s"]).destination.caFile
                == "/dev/null")
    }

    @Test func productExampleDecodes() throws {
        let environment = ["MIXPANEL_SECRET": "s3cr3t", "MIXPANEL_TOKEN": "tok"]
        // Its ca_file is not on this host: decoded as a dry run would (secrets, files unchecked).
        let config = try ConfigLoader.parse(
            text: productExampleConfig, file: "agent.yaml", environment: environment, checkSecrets: false)
        #expect(config.file == "agent.yaml")
        #expect(config.stateDir == "/var/lib/tailship")

        let destination = config.destination
        #expect(destination.kind == .mixpanel)
        #expect(destination.api == .import)
        #expect(destination.url == "https://api.mixpanel.com")
        #expect(destination.projectId == "3141592")
        #expect(
            destination.auth == AuthConfig(username: "my-sa.123.mp-service-account", secret: .env("MIXPANEL_SECRET")))
        #expect(destination.token == .env("MIXPANEL_TOKEN"))
        #expect(destination.path == "/var/lib/tailship/events.ndjson")
        #expect(destination.gzip)
        #expect(destination.gzipLevel == ConfigDefaults.gzipLevel)
        #expect(destination.maxInFlight == 4)
        #expect(destination.caFile == "/etc/ssl/private-ca.pem")
        #expect(destination.batch == BatchConfig(maxEvents: 2000, maxBytes: 2_097_152, flushIntervalMs: 1000))
        #expect(destination.timeoutMs == 30_000)
        #expect(destination.retry == RetryConfig(initialBackoffMs: 2000, maxBackoffMs: 60_000))

        #expect(config.sources.count == 1)
        let source = try #require(config.sources.first)
        #expect(source.name == "app")
        #expect(source.paths == ["/var/log/myapp/*.log"])
        #expect(source.exclude == ["*.gz"])
        #expect(source.startAt == .end)
        #expect(source.timezone == Located("UTC", at: SourceMark(line: 30, column: 15)))
        #expect(source.maxLineBytes == 1_048_576)
        #expect(source.format == .regex)
        #expect(source.mark == SourceMark(line: 26, column: 5))
        #expect(source.rules.map(\.name.value) == ["purchase", "noise"])

        let purchase = source.rules[0]
        #expect(purchase.mark == SourceMark(line: 34, column: 9))
        #expect(purchase.name == Located("purchase", at: SourceMark(line: 34, column: 15)))
        #expect(
            purchase.match
                == Located(
                    #"^(?<ts>\S+) INFO user=(?<user>\S+) action=purchase amount=(?<amount>[\d.]+)"#,
                    at: SourceMark(line: 35, column: 16)))
        #expect(purchase.conditions.count == 1)
        #expect(purchase.conditions[0].field == Located("plan", at: SourceMark(line: 36, column: 18)))
        #expect(purchase.conditions[0].pattern == Located("^(pro|team)$", at: SourceMark(line: 36, column: 24)))
        #expect(purchase.event == Located("Purchase Completed", at: SourceMark(line: 37, column: 16)))
        #expect(purchase.distinctId == Located("{{user}}", at: SourceMark(line: 38, column: 22)))
        #expect(purchase.time?.field == Located("ts", at: SourceMark(line: 39, column: 24)))
        #expect(purchase.time?.format == Located("iso8601", at: SourceMark(line: 39, column: 36)))
        #expect(purchase.insertId?.value == "{{request_id}}")
        #expect(purchase.ip?.value == "{{client_ip}}")
        #expect(!purchase.drop)
        #expect(purchase.properties.map(\.name.value) == ["amount", "plan", "channel"])
        #expect(purchase.properties.map(\.value.value) == ["{{amount}}", "{{plan}}", "web"])
        #expect(purchase.properties.map(\.type) == [.float, .string, .string])
        #expect(purchase.properties[0].value.mark == SourceMark(line: 43, column: 28))

        let noise = source.rules[1]
        #expect(noise.drop)
        #expect(noise.match?.value == "healthcheck")
        #expect(noise.event == nil && noise.distinctId == nil && noise.time == nil)
    }

    @Test func maxEventsPerSecondIsDecoded() throws {
        let text = minimalConfig.replacingOccurrences(
            of: "destination:\n", with: "destination:\n  max_events_per_second: 5000\n")
        let config = try ConfigLoader.parse(text: text, file: "m.yaml", environment: ["MIXPANEL_SECRET": "s"])
        #expect(config.destination.maxEventsPerSecond == 5000)
    }

    @Test func minimalConfigGetsDefaults() throws {
        let config = try ConfigLoader.parse(
            text: minimalConfig, file: "m.yaml", environment: ["MIXPANEL_SECRET": "s"])
        #expect(config.stateDir == ConfigDefaults.stateDir)
        let destination = config.destination
        #expect(destination.kind == ConfigDefaults.kind)
        #expect(destination.api == ConfigDefaults.api)
        #expect(destination.url == ConfigDefaults.url)
        #expect(destination.projectId == nil)
        #expect(destination.auth == AuthConfig(username: nil, secret: .env("MIXPANEL_SECRET")))
        #expect(destination.token == nil)
        #expect(destination.gzip == ConfigDefaults.gzip)
        #expect(destination.gzipLevel == ConfigDefaults.gzipLevel)
        #expect(destination.maxInFlight == ConfigDefaults.maxInFlight)
        #expect(destination.maxEventsPerSecond == nil, "unlimited unless set")
        #expect(destination.batch == ConfigDefaults.batch)
        #expect(destination.timeoutMs == ConfigDefaults.timeoutMs)
        #expect(destination.retry == ConfigDefaults.retry)
        let source = try #require(config.sources.first)
        #expect(source.paths == ["/var/log/app.log"])
        #expect(source.exclude.isEmpty)
        #expect(source.startAt == ConfigDefaults.startAt)
        #expect(source.timezone.value == ConfigDefaults.timezone)
        #expect(source.maxLineBytes == ConfigDefaults.maxLineBytes)
        #expect(source.format == ConfigDefaults.format)
        #expect(source.rules.first?.conditions.isEmpty == true)
        #expect(source.rules.first?.properties.isEmpty == true)
    }

    @Test func otherKindsAndOptionalKeys() throws {
        let text = """
            destination:
              kind: file
              path: /tmp/out.ndjson
              url: https://api-eu.mixpanel.com/
              gzip: false
              gzip_level: 6
              batch: { max_bytes: 512KiB }
              retry: { initial_backoff: 500ms }
            sources:
              - name: web
                paths: [/var/log/nginx/access.log, "/var/log/nginx/*.log"]
                format: nginx_combined
                start_at: beginning
                timezone: Europe/Paris
                rules:
                  - name: hit
                    event: Page View
                    distinct_id: "{{remote_addr}}"
                    time: { field: time_local, format: "%d/%b/%Y:%H:%M:%S %z" }
                    properties:
                      status: { value: "{{status}}", type: int }
                      ok: { value: "true", type: bool }
            """
        let config = try ConfigLoader.parse(text: text, file: "f.yaml", environment: [:])
        #expect(config.destination.kind == .file)
        #expect(config.destination.path == "/tmp/out.ndjson")
        #expect(config.destination.url == "https://api-eu.mixpanel.com")
        #expect(!config.destination.gzip)
        #expect(config.destination.gzipLevel == 6)
        #expect(config.destination.batch.maxBytes == 524_288)
        #expect(config.destination.batch.maxEvents == ConfigDefaults.batch.maxEvents)
        #expect(config.destination.retry == RetryConfig(initialBackoffMs: 500, maxBackoffMs: 60_000))
        let source = try #require(config.sources.first)
        #expect(source.format == .nginxCombined)
        #expect(source.startAt == .beginning)
        #expect(source.timezone.value == "Europe/Paris")
        #expect(source.rules.first?.match == nil)
        #expect(source.rules.first?.properties.map(\.type) == [.int, .bool])
    }

    @Test func trackApiUsesTheTokenAndNotTheSecret() throws {
        let tokenPath = try secretFile(contents: "tok\n")
        defer { try? FileManager.default.removeItem(atPath: tokenPath) }
        let text = """
            destination:
              api: track
              token_file: \(tokenPath)
            sources:
              - name: app
                paths: /x.log
                format: json
                rules:
                  - { name: all, event: E, distinct_id: "{{u}}", time: { field: t, format: unix_ms } }
            """
        let config = try ConfigLoader.parse(text: text, file: "t.yaml", environment: [:])
        #expect(config.destination.api == .track)
        #expect(config.destination.auth == nil)
        guard case .file(let path) = config.destination.token else {
            Issue.record("expected a token file")
            return
        }
        #expect(try SecretResolver.resolve(.file(path), environment: [:]) == "tok")
    }

    @Test func loadReadsAFileAndReportsAMissingOne() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tailship-config-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("agent.yaml").path
        try minimalConfig.write(toFile: path, atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(path: path, environment: ["MIXPANEL_SECRET": "s"])
        #expect(config.file == path)
        #expect(config.sources.count == 1)

        let missing = directory.appendingPathComponent("nope.yaml").path
        #expect {
            try ConfigLoader.load(path: missing, environment: [:])
        } throws: { error in
            (error as? ConfigError)?.description
                == "\(missing):1:1: cannot read the configuration: No such file or directory"
        }
    }

    @Test func configPathPrecedence() {
        #expect(ConfigPath.resolve(explicit: "a.yaml", environment: ["TAILSHIP_CONFIG": "b.yaml"]) == "a.yaml")
        #expect(ConfigPath.resolve(explicit: nil, environment: ["TAILSHIP_CONFIG": "b.yaml"]) == "b.yaml")
        #expect(ConfigPath.resolve(explicit: nil, environment: ["TAILSHIP_CONFIG": ""]) == "/etc/tailship/agent.yaml")
        #expect(ConfigPath.resolve(explicit: nil, environment: [:]) == "/etc/tailship/agent.yaml")
    }
}

/// Writes `contents` to a fresh temporary file, mode 0600 as a secret must be, and returns its path.
func secretFile(contents: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("tailship-secret-\(UUID())").path
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    return path
}
