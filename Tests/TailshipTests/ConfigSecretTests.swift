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
