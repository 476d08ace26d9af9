import Foundation
import Testing

@testable import Tailship

@Suite struct ConfigSecretTests {
    @Test func environmentSecrets() throws {
        #expect(try SecretResolver.resolve(.env("K"), environment: ["K": "v a l"]) == "v a l")
        #expect(throws: SecretError.environmentUnset(name: "K")) {
            try SecretResolver.resolve(.env("K"), environment: [:])
        }
        #expect(throws: SecretError.environmentEmpty(name: "K")) {
            try SecretResolver.resolve(.env("K"), environment: ["K": ""])
        }
    }

    @Test(arguments: [("abc\n", "abc"), ("abc\r\n", "abc"), ("abc", "abc"), ("a b\n\n", "a b"), (" x \n", " x ")])
    func fileSecretsLoseTrailingNewlines(contents: String, expected: String) throws {
        let path = try secretFile(contents: contents)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try SecretResolver.resolve(.file(path), environment: [:]) == expected)
    }

    @Test func unusableSecretFiles() throws {
        let empty = try secretFile(contents: "\n")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: SecretError.fileEmpty(path: empty)) {
            try SecretResolver.resolve(.file(empty), environment: [:])
        }
        #expect(throws: SecretError.fileUnreadable(path: "/nonexistent/s", reason: "No such file or directory")) {
            try SecretResolver.resolve(.file("/nonexistent/s"), environment: [:])
        }
        let message = SecretError.fileUnreadable(path: "/p", reason: "Permission denied").description
        #expect(message == "cannot read secret file '/p': Permission denied")
    }
}

/// A reload that changes only the credentials is taken by the running shipper; anything else,
/// a CA file's content included, rebuilds the pipeline.
@Suite struct ReloadCredentialsTests {
    @Test func onlyACredentialChangeKeepsThePipeline() throws {
        let dir = NSTemporaryDirectory() + "reload-credentials-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secret = dir + "/secret"
        let ca = dir + "/ca.pem"
        let config = dir + "/agent.yaml"
        func write(_ text: String, to path: String) throws {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o600)
        }
        func yaml(maxEvents: Int = 40, auth: String? = nil) -> String {
            """
            state_dir: \(dir)/state
            destination:
              url: https://api.mixpanel.com
              project_id: "42"
              \(auth ?? "auth: { username: sa, secret_file: \(secret) }")
              ca_file: \(ca)
              batch: { max_events: \(maxEvents) }
            sources:
              - name: app
                paths: ["\(dir)/*.log"]
                rules:
                  - name: all
                    match: '^(?<ts>\\d+) (?<user>\\w+)'
                    event: Seen
                    distinct_id: "{{user}}"
                    time: { field: ts, format: unix_ms }
            """
        }
        func plan() throws -> AgentPlan { try AgentPlan.load(path: config, environment: [:]) }
        try write("one", to: secret)
        try write("-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n", to: ca)
        try write(yaml(), to: config)
        let first = try plan()
        #expect(!(try plan()).changesOnlyCredentials(from: first), "nothing changed: a plain reload")
        try write("two", to: secret)
        #expect(try plan().changesOnlyCredentials(from: first))
        try write(yaml(maxEvents: 41), to: config)
        #expect(!(try plan()).changesOnlyCredentials(from: first), "a batch setting changed too")
        try write(yaml(), to: config)
        try write("-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n", to: ca)
        #expect(!(try plan()).changesOnlyCredentials(from: first), "the CA changed too")
        // The auth block rewritten over three lines (every later position moves): still only the secret.
        try write("-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n", to: ca)
        try write(yaml(auth: "auth:\n    username: sa\n    secret_file: \(secret)"), to: config)
        #expect(try plan().changesOnlyCredentials(from: first), "positions moved, nothing else changed")
    }
}
