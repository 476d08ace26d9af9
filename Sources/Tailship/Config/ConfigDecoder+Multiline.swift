/// `multiline:` of a source (see `MultilineConfig`).
extension ConfigDecoder {
    static let multilineKeys = ["preset", "start", "continuation", "max_lines", "max_bytes", "timeout"]

    /// `{ preset: java }`, `{ start: '^\d{4}-' }` or `{ continuation: '^\s' }`, with optional
    /// limits. Exactly one of the three says which lines belong together. The pattern itself is
    /// compiled (and its problems reported) with the source's rules.
    mutating func decodeMultiline(_ node: YAMLNode) -> MultilineConfig? {
        guard let fields = fields(of: node, for: "'multiline'", known: Self.multilineKeys) else { return nil }
        let preset = fields["preset"].flatMap { enumeration($0, key: "preset", as: MultilinePreset.self) }
        let start = fields["start"].flatMap { nonEmptyString($0, key: "start") }
        let continuation = fields["continuation"].flatMap { nonEmptyString($0, key: "continuation") }
        let maxLines = fields["max_lines"].flatMap {
            integer($0, key: "max_lines", range: ConfigDefaults.multilineMaxLinesRange)
        }
        let maxBytes = fields["max_bytes"].flatMap {
            size($0, key: "max_bytes", range: 1...ConfigDefaults.maxLineBytesLimit)
        }
        let timeout = fields["timeout"].flatMap {
            duration($0, key: "timeout", range: ConfigDefaults.multilineTimeoutRangeMs, bounds: "10ms and 1h")
        }

        let given = ["preset", "start", "continuation"].filter { fields[$0] != nil }
        guard given.count == 1 else {
            if given.isEmpty {
                report(fields.mark, "'multiline' needs one of 'preset', 'start' or 'continuation'")
            } else {
                report(
                    fields.mark,
                    "'multiline' takes one of 'preset', 'start' or 'continuation', got "
                        + given.map { "'\($0)'" }.joined(separator: " and "))
            }
            return nil
        }
        var config: MultilineConfig
        if let preset, let node = fields["preset"] {
            config = MultilineConfig(
                boundary: preset.boundary, pattern: Located(preset.pattern, at: node.mark), preset: preset)
        } else if let start {
            config = MultilineConfig(boundary: .start, pattern: start)
        } else if let continuation {
            config = MultilineConfig(boundary: .continuation, pattern: continuation)
        } else {
            return nil  // the one given was wrong, and reported
        }
        if let maxLines { config.maxLines = maxLines }
        if let maxBytes { config.maxBytes = maxBytes }
        if let timeout { config.timeoutMs = timeout }
        return config
    }
}
