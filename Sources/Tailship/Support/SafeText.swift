/// Text that comes from outside the agent (file names, log lines, the server's answers) made
/// safe to print: bounded in length and free of control characters, so it can neither forge a
/// log line nor reach a terminal as an escape sequence (docs/security.md).
public enum SafeText {
    /// How much of a server's text (an `error`, a failed record's message, a body excerpt) the
    /// agent keeps for its logs and dead letters.
    public static let serverTextBytes = 512

    /// `text` cut to at most `maxBytes` UTF-8 bytes on a character boundary, with a marker
    /// naming the original size when anything was cut.
    public static func truncated(_ text: String, maxBytes: Int = serverTextBytes) -> String {
        let size = text.utf8.count
        guard size > maxBytes else { return text }
        return "\(prefix(text, maxBytes: maxBytes))...[truncated, \(size) bytes]"
    }

    /// A server's text decoded from raw bytes, truncated without decoding more than it keeps.
    public static func truncated(bytes: some Collection<UInt8>, maxBytes: Int = serverTextBytes) -> String {
        // A few bytes beyond the cap, so a character cut by the prefix is dropped, not repaired.
        let text = String(decoding: bytes.prefix(maxBytes + 4), as: UTF8.self)
        guard bytes.count > maxBytes else { return text }
        return "\(prefix(text, maxBytes: maxBytes))...[truncated, \(bytes.count) bytes]"
    }

    /// The longest prefix of `text` within `maxBytes` UTF-8 bytes that ends on a character
    /// boundary (never inside a multi-byte sequence, nor between a base and its combining mark).
    private static func prefix(_ text: String, maxBytes: Int) -> Substring {
        let utf8 = text.utf8
        guard utf8.count > maxBytes else { return text[...] }
        var end = utf8.index(utf8.startIndex, offsetBy: max(0, maxBytes))
        while end > utf8.startIndex {
            if let boundary = String.Index(end, within: text) { return text[..<boundary] }
            end = utf8.index(before: end)
        }
        return ""
    }

    /// Whether `scalar` is a control character: C0 (U+0000–U+001F), DEL or C1 (U+0080–U+009F).
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// `text` with every control character written as an escape: `\n`, `\r`, `\t`, else
    /// `\u00XX` (as in JSON). Anything else, backslashes included, is left as it is.
    public static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard isControl(scalar) else {
                out.append(scalar)
                continue
            }
            out.append(contentsOf: escape(scalar).unicodeScalars)
        }
        return String(out)
    }

    /// The escape for one control character.
    static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default:
            let hex = String(scalar.value, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
    }

    /// `url` as it may be logged: without `user:password@` and without a query or fragment
    /// (which could carry a token), whatever else it holds.
    public static func redactedURL(_ url: String) -> String {
        var text = Substring(url)
        if let end = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<end] }
        let authorityStart = text.firstRange(of: "://")?.upperBound ?? text.startIndex
        let authorityEnd = text[authorityStart...].firstIndex(of: "/") ?? text.endIndex
        if let at = text[authorityStart..<authorityEnd].lastIndex(of: "@") {
            text = text[..<authorityStart] + text[text.index(after: at)...]
        }
        return escapingControls(String(text))
    }
}
