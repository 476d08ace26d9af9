/// Letters larger than the dead-letter file's cap: cut, never dropped (they are the only
/// record of an event lost to analytics), so that every write keeps the file under its cap.
extension DeadLetter {
    /// The most a cut letter takes: the smallest cap the configuration allows
    /// (`ConfigDefaults.deadLetterMaxBytesRange`), so a cut letter always fits.
    static let cutLineBytes = 4096

    /// The letter's NDJSON line, or, when that is longer than `limit`, the line of the letter
    /// cut down: the event dropped (`null`), the message, line and names cut to a few hundred
    /// bytes each (as JSON, escapes counted), and `"truncated":true`.
    public func line(limit: Int) -> [UInt8] {
        let full = line()
        guard full.count > limit else { return full }
        var cut = self
        cut.truncated = true
        cut.eventJSON = []
        cut.message = Self.prefix(message, encodedBytes: 512)
        cut.field = Self.prefix(field, encodedBytes: 128)
        cut.rawLine = rawLine.map { Self.prefix($0, encodedBytes: 1024) }
        cut.origin.path = Self.prefix(origin.path, encodedBytes: 1024)
        cut.origin.rule = Self.prefix(origin.rule, encodedBytes: 256)
        cut.origin.source = Self.prefix(origin.source, encodedBytes: 256)
        return cut.line()
    }

    /// The longest prefix of `text`, whole scalars only, whose JSON string form (quotes
    /// included) takes at most `encodedBytes`.
    static func prefix(_ text: String, encodedBytes: Int) -> String {
        var encoded: [UInt8] = []
        JSONWriter.appendString(text, to: &encoded)
        guard encoded.count > encodedBytes else { return text }
        var kept = String.UnicodeScalarView()
        var used = 2  // the quotes
        for scalar in text.unicodeScalars {
            var one: [UInt8] = []
            JSONWriter.appendString(String(scalar), to: &one)
            used += one.count - 2
            if used > encodedBytes { break }
            kept.append(scalar)
        }
        return String(kept)
    }
}
