import Foundation
import Logging
import Testing

@testable import Tailship

/// The helpers that bound the server's text and escape control characters before anything is
/// printed (docs/security.md).
@Suite struct SafeTextTests {
    @Test func shortTextIsKeptAsItIs() {
        #expect(SafeText.truncated("invalid credentials") == "invalid credentials")
        let exact = String(repeating: "a", count: 512)
        #expect(SafeText.truncated(exact) == exact)
        #expect(SafeText.truncated(bytes: Array(exact.utf8)) == exact)
    }

    @Test func longTextIsCutAt512BytesWithAMarker() {
        let text = String(repeating: "e", count: 2_000_000)
        let cut = SafeText.truncated(text)
        #expect(cut == String(repeating: "e", count: 512) + "...[truncated, 2000000 bytes]")
        #expect(SafeText.truncated(bytes: Array(text.utf8)) == cut)
    }

    /// A multi-byte character straddling the cap is dropped whole, never split into invalid UTF-8.
    @Test func theCutFallsOnACharacterBoundary() {
        // 511 ASCII bytes, then a 3-byte "€" over bytes 512-514, then more.
        let text = String(repeating: "a", count: 511) + "€€€"
        let cut = SafeText.truncated(text)
        #expect(cut == String(repeating: "a", count: 511) + "...[truncated, 520 bytes]")
        #expect(SafeText.truncated(bytes: Array(text.utf8)) == cut)
        // A combining mark is not separated from its base: "e" + U+0301 is one character.
        let combining = String(repeating: "a", count: 511) + "e\u{301}" + "xyz"
        #expect(SafeText.truncated(combining).hasPrefix(String(repeating: "a", count: 511) + "..."))
        // Invalid bytes from the server are repaired, not passed on.
        let invalid: [UInt8] = [0x61, 0xFF, 0x62]
        #expect(SafeText.truncated(bytes: invalid) == "a\u{FFFD}b")
    }

    @Test func everyControlCharacterIsEscaped() {
        #expect(SafeText.escapingControls("plain text, with \\ and \"quotes\"") == "plain text, with \\ and \"quotes\"")
        #expect(SafeText.escapingControls("a\nb\rc\td") == "a\\nb\\rc\\td")
        #expect(SafeText.escapingControls("\u{1B}[31mred\u{0}") == "\\u001b[31mred\\u0000")
        #expect(
            SafeText.escapingControls("del\u{7F} c1\u{85}\u{9B} ok\u{A0}é") == "del\\u007f c1\\u0085\\u009b ok\u{A0}é")
        for value in UInt32(0)...0x9F {
            let scalar = Unicode.Scalar(value)!
            let escaped = SafeText.escapingControls(String(Character(scalar)))
            #expect(escaped.unicodeScalars.allSatisfy { !SafeText.isControl($0) }, "U+\(String(value, radix: 16))")
        }
    }

    /// One record is one line: a file name or server message holding a newline, CR or ESC cannot
    /// start a forged line or reach the terminal raw, in the message or in a metadata value.
    @Test func aLogLineStaysOneLineWhateverItQuotes() {
        let hostile = "app.log\n2026-01-01T00:00:00.000Z error forged\r\u{1B}]0;owned\u{7}"
        let line = StderrLogHandler.line(
            level: .warning, message: "cannot read \(hostile)",
            metadata: ["file.path": "\(hostile)", "reason": "400: a \"b\" = c\\d", "plain": "x"])
        #expect(line.hasSuffix("\n"))
        #expect(line.dropLast().unicodeScalars.allSatisfy { !SafeText.isControl($0) }, "\(line)")
        #expect(line.contains("cannot read app.log\\n2026-01-01T00:00:00.000Z error forged\\r\\u001b]0;owned\\u0007 "))
        #expect(line.contains(#" file.path="app.log\n2026-01-01T00:00:00.000Z error forged\r\u001b]0;owned\u0007""#))
        #expect(line.contains(" plain=x "))
        #expect(line.hasSuffix(#" reason="400: a \"b\" = c\\d""# + "\n"))
    }

    @Test func urlsAreLoggedWithoutCredentialsOrQuery() {
        #expect(SafeText.redactedURL("https://api.mixpanel.com") == "https://api.mixpanel.com")
        #expect(SafeText.redactedURL("https://user:pw@api.mixpanel.com:443") == "https://api.mixpanel.com:443")
        #expect(SafeText.redactedURL("http://a@b@127.0.0.1/x?token=t#f") == "http://127.0.0.1/x")
        #expect(SafeText.redactedURL("https://host/p@th") == "https://host/p@th")
        #expect(URLRules.hasUserinfo("https://u:p@host"))
        #expect(URLRules.hasUserinfo("u:p@host"))
        #expect(!URLRules.hasUserinfo("https://host/p@th"))
        #expect(!URLRules.hasUserinfo("https://host?x=a@b"))
    }
}
