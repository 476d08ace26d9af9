extension SourceConfig {
    /// How `run`, `test` and `import` join this source's lines into records (`multiline`); nil
    /// when each line is one.
    public var recordFraming: RecordFraming? {
        guard let multiline else { return nil }
        let text = multiline.pattern.value
        return RecordFraming(
            beginsOnMatch: multiline.boundary == .start, maxLines: multiline.maxLines, maxBytes: multiline.maxBytes,
            timeout: .milliseconds(multiline.timeoutMs)
        ) {
            // Compiled with the rules first (`RuleCompiler`), where a bad pattern is reported: a
            // plan never holds one. A line that exhausts the match budget does not match.
            guard let pattern = try? Pattern(text) else { return { _ in false } }
            return { pattern.match($0) == .matched }
        }
    }
}

extension TailSource {
    /// The tailing part of a configured source, its records included.
    init(reading config: SourceConfig) {
        self.init(config)
        framing = config.recordFraming
    }
}
