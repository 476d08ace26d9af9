#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `sources:` — which files to tail and how to read them.
extension ConfigDecoder {
    static let sourceKeys = [
        "name", "paths", "exclude", "start_at", "timezone", "max_line_bytes", "max_open_files", "poll_interval",
        "format", "rules", "link_targets", "invalid_utf8", "tests", "multiline",
    ]

    /// Decodes the source list; names must be unique and at least one source is required.
    mutating func decodeSources(_ node: YAMLNode) -> [SourceConfig] {
        guard case .sequence(let items, let mark) = node else {
            if let single = oneItemWithoutItsDash(node, itemKeys: Self.sourceKeys) {
                report(node.mark, "expected a list of sources for 'sources', got a mapping; start the source with '- '")
                // Its own problems (its rules' included) are reported now, not after this one is fixed
                // (the configuration is refused all the same: a problem was reported).
                return decodeSource(single).0.map { [$0] } ?? []
            }
            report(node.mark, "expected a list of sources for 'sources', got \(describe(node))")
            return []
        }
        guard !items.isEmpty else {
            report(mark, "'sources' must list at least one source")
            return []
        }
        var seen: [String: SourceMark] = [:]
        var sources: [SourceConfig] = []
        for item in items {
            // A source with other problems still has its name checked: fixing those must not
            // reveal a duplicate the first run could have reported.
            let (source, name) = decodeSource(item)
            guard let name else { continue }
            if let first = seen[name.value] {
                report(name.mark, "duplicate source name '\(name.value)' (first at \(first))")
                continue
            }
            seen[name.value] = name.mark
            if let source { sources.append(source) }
        }
        return sources
    }

    /// One source (nil when it has problems), and its name for the uniqueness check.
    private mutating func decodeSource(_ node: YAMLNode) -> (SourceConfig?, Located<String>?) {
        guard let fields = fields(of: node, for: "a source", known: Self.sourceKeys) else { return (nil, nil) }
        let name = required("name", in: fields).flatMap { nonEmptyString($0, key: "name") }
        let paths = required("paths", in: fields).flatMap { nonEmptyList($0, key: "paths") }
        let exclude = fields["exclude"].flatMap { stringList($0, key: "exclude") } ?? []
        let linkTargets = fields["link_targets"].flatMap { absolutePaths($0, key: "link_targets") } ?? []
        let tests = fields["tests"].map { decodeTests($0) } ?? []
        let multiline = fields["multiline"].flatMap { decodeMultiline($0) }
        let invalidUTF8 = fields["invalid_utf8"].flatMap { enumeration($0, key: "invalid_utf8", as: InvalidUTF8.self) }
        let startAt = fields["start_at"].flatMap { enumeration($0, key: "start_at", as: StartAt.self) }
        let timezone = fields["timezone"].flatMap { timeZone($0) } ?? Located(ConfigDefaults.timezone, at: fields.mark)
        let maxLineBytes = fields["max_line_bytes"].flatMap {
            size($0, key: "max_line_bytes", range: 1...ConfigDefaults.maxLineBytesLimit)
        }
        let maxOpenFiles = fields["max_open_files"].flatMap {
            integer($0, key: "max_open_files", range: ConfigDefaults.maxOpenFilesRange)
        }
        let pollInterval = fields["poll_interval"].flatMap {
            duration($0, key: "poll_interval", range: ConfigDefaults.pollIntervalRangeMs, bounds: "100ms and 1h")
        }
        var format: LogFormat? = ConfigDefaults.format
        if let value = fields["format"] { format = enumeration(value, key: "format", as: LogFormat.self) }
        let rules = required("rules", in: fields).map { decodeRules($0, format: format) } ?? []

        guard let name, let paths else { return (nil, name) }
        var source = SourceConfig(
            name: name.value, paths: paths.map(\.value), exclude: exclude.map(\.value),
            startAt: startAt ?? ConfigDefaults.startAt, timezone: timezone,
            maxLineBytes: maxLineBytes ?? ConfigDefaults.maxLineBytes,
            maxOpenFiles: maxOpenFiles ?? ConfigDefaults.maxOpenFiles, pollIntervalMs: pollInterval,
            format: format ?? ConfigDefaults.format,
            rules: rules, mark: fields.mark)
        source.formatKnown = format != nil
        source.linkTargets = linkTargets.map(\.value)
        source.invalidUTF8 = invalidUTF8 ?? .replace
        source.tests = tests
        source.multiline = multiline
        return (source, name)
    }

    /// A mapping where a list of such mappings belongs, whose keys are an item's (a forgotten
    /// `- `): the item, to be checked on its own.
    func oneItemWithoutItsDash(_ node: YAMLNode, itemKeys: [String]) -> YAMLNode? {
        guard case .mapping(let entries, _) = node, !entries.isEmpty,
            entries.allSatisfy({ itemKeys.contains($0.key.value) })
        else { return nil }
        return node
    }

    /// A list of absolute paths (or one).
    private mutating func absolutePaths(_ node: YAMLNode, key: String) -> [Located<String>]? {
        guard let list = stringList(node, key: key) else { return nil }
        var valid = true
        for path in list where !path.value.hasPrefix("/") {
            report(path.mark, "'\(key)' takes absolute directories, got '\(path.value)'")
            valid = false
        }
        return valid ? list : nil
    }

    /// A list of strings (or one string) with at least one item.
    private mutating func nonEmptyList(_ node: YAMLNode, key: String) -> [Located<String>]? {
        guard let list = stringList(node, key: key) else { return nil }
        guard !list.isEmpty else {
            report(node.mark, "'\(key)' must list at least one entry")
            return nil
        }
        return list
    }

    /// An IANA zone name that this system's time zone database knows.
    private mutating func timeZone(_ node: YAMLNode) -> Located<String>? {
        guard let name = nonEmptyString(node, key: "timezone") else { return nil }
        guard TZifZone(identifier: name.value) != nil else {
            report(name.mark, "unknown time zone '\(name.value)'; use an IANA name such as UTC or Europe/Paris")
            return nil
        }
        return name
    }
}
