import Foundation
import Testing

@testable import Tailship

/// The `url` rules of docs/configuration.md and docs/security.md: plain http:// only to a
/// loopback host or with `allow_plaintext_http: true`, never credentials in the url, and a
/// refused url is never quoted back with its password or query.
@Suite struct ConfigURLTests {
    private func withURL(_ url: String, extra: String = "") -> String {
        minimalConfig.replacingOccurrences(of: "destination:", with: "destination:\n  url: \(url)\(extra)")
    }

    @Test(arguments: [
        "http://127.0.0.1:8080", "http://127.3.4.5", "http://localhost:9000", "http://LOCALHOST", "http://[::1]:8080",
        "http://[::ffff:127.0.0.1]", "https://api.mixpanel.com", "https://10.0.0.7:8443",
    ])
    func loopbackHttpAndAnyHttpsAreAccepted(url: String) {
        #expect(configProblems(withURL(url)) == [])
    }

    @Test(arguments: [
        ("http://api.mixpanel.com", "api.mixpanel.com"), ("http://10.0.0.7:8080", "10.0.0.7"),
        ("http://128.0.0.1", "128.0.0.1"), ("http://localhost.example.com", "localhost.example.com"),
        ("http://[2001:db8::1]", "[2001:db8::1]"), ("HTTP://ingest.internal", "ingest.internal"),
    ])
    func plainHttpToAnotherHostIsRefused(url: String, host: String) {
        let problems = configProblems(withURL(url))
        #expect(problems.count == 1)
        let shown = problems.first ?? ""
        #expect(shown.hasPrefix("agent.yaml:2:8: 'url' is plain http:// to "), "\(shown)")
        #expect(shown.contains("allow_plaintext_http: true"))
        #expect(shown.contains(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))))
    }

    @Test func theOptInAcceptsPlainHttpAndIsABoolean() throws {
        let config = try ConfigLoader.parse(
            text: withURL("http://ingest.internal:8080", extra: "\n  allow_plaintext_http: true"), file: "agent.yaml",
            environment: ["MIXPANEL_SECRET": "s"])
        #expect(config.destination.url == "http://ingest.internal:8080")
        #expect(
            configProblems(withURL("http://ingest.internal", extra: "\n  allow_plaintext_http: false")).count == 1)
        #expect(
            configProblems(withURL("http://ingest.internal", extra: "\n  allow_plaintext_http: yes please")).count
                >= 1)
    }

    @Test(arguments: [
        "https://user:hunter2@api.mixpanel.com", "https://hunter2@api.mixpanel.com", "http://u:hunter2@127.0.0.1:80",
        "https://u:hunter2@api.mixpanel.com/import", "https://u:hun ter2@api.mixpanel.com",
    ])
    func credentialsInTheUrlAreRefusedWithoutBeingShown(url: String) {
        let problems = configProblems(withURL(url, extra: "\n  allow_plaintext_http: true"))
        #expect(
            problems == [
                "agent.yaml:2:8: 'url' must not carry credentials ('user:password@'); put them in 'auth' "
                    + "(username, secret_env or secret_file), or the token in 'token_env' or 'token_file'"
            ])
        #expect(!problems.joined().contains("hunter2"))
    }

    @Test func anInvalidUrlIsQuotedWithoutItsQuery() {
        let problems = configProblems(withURL("https://api.mixpanel.com/?token=hunter2"))
        #expect(
            problems == [
                "agent.yaml:2:8: invalid url 'https://api.mixpanel.com/'; expected https://host (or http://host), without query"
            ])
    }

    @Test func hostsRecognisedAsLoopback() {
        for host in [
            "localhost", "127.0.0.1", "127.255.255.254", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.2",
        ] {
            #expect(URLRules.isLoopback(host), "\(host)")
        }
        for host in ["localhost.", "0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "1.127.0.0", "::2", "::ffff:10.0.0.1", ""]
        {
            #expect(!URLRules.isLoopback(host), "\(host)")
        }
    }
}
