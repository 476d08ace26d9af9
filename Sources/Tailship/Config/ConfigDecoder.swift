/// Turns a YAML tree into an `AgentConfig`, collecting every problem instead of stopping at the
/// first, each at the position of the key or value that causes it.
///
/// Decoding goes section by section (`+Destination`, `+Sources`, `+Rules`); a value that is
/// wrong is reported and replaced by its default so the checks after it still run. The caller
/// throws when `problems` is non-empty, so a partly-defaulted config never escapes.
struct ConfigDecoder {
    let file: String
    let environment: [String: String]
    /// Whether unresolvable secrets and an unreadable `ca_file` are problems (not for a dry run,
    /// which sends nothing).
    let checkSecrets: Bool
    /// Whether the directories `run` writes into are checked too (`tailship check`).
    let checkPaths: Bool
    /// Whether an existing `state_dir` must be owned by this user and closed to group and
    /// others writing (`check`, `run`, a reload, `import`: whatever writes state).
    let checkStateDir: Bool
    private(set) var problems: [ConfigProblem] = []
    /// The sources as far as they decoded, kept even when other parts are wrong so their rules
    /// can still be compiled and every problem reported in one run.
    private(set) var decodedSources: [SourceConfig] = []

    static let topLevelKeys = ["state_dir", "destination", "sources", "metrics"]

    init(
        file: String, environment: [String: String], checkSecrets: Bool = true, checkPaths: Bool = false,
        checkStateDir: Bool = false
    ) {
        self.file = file
        self.environment = environment
        self.checkSecrets = checkSecrets
        self.checkPaths = checkPaths
        self.checkStateDir = checkStateDir || checkPaths
    }

    /// Records a problem at `mark`.
    mutating func report(_ mark: SourceMark, _ message: String) {
        problems.append(ConfigProblem(file: file, mark: mark, message: message))
    }

    /// Decodes the whole document; nil when something is wrong (see `problems`).
    mutating func decodeAgent(_ root: YAMLNode?) -> AgentConfig? {
        guard let root, !root.isNull else {
            report(
                SourceMark(line: 1, column: 1),
                "the configuration is empty; expected a mapping with 'destination' and 'sources'")
            return nil
        }
        guard let fields = fields(of: root, for: "the configuration", known: Self.topLevelKeys) else { return nil }

        var stateDir = ConfigDefaults.stateDir
        var stateDirMark = fields.mark
        if let node = fields["state_dir"], let value = nonEmptyString(node, key: "state_dir") {
            stateDir = value.value
            stateDirMark = value.mark
        }
        // `run` needs it writable (checkpoints are written before any line is read): `check` says
        // so up front; `run` fails at start (exit 2) when it is not.
        if checkPaths, let problem = WritableDirectory.problem(stateDir, creatable: true) {
            report(stateDirMark, "state_dir cannot be used: \(problem)")
        } else if checkStateDir, let problem = StateDirectory.problem(stateDir) {
            report(stateDirMark, "state_dir is not safe: \(problem)")
        }
        let destination = required("destination", in: fields).flatMap { decodeDestination($0) }
        let sources = required("sources", in: fields).map { decodeSources($0) } ?? []
        decodedSources = sources
        let metrics = fields["metrics"].flatMap { decodeMetrics($0) }

        guard problems.isEmpty, let destination else { return nil }
        var config = AgentConfig(file: file, stateDir: stateDir, destination: destination, sources: sources)
        config.metrics = metrics
        return config
    }
}

/// The known keys of one mapping, looked up by name. Unknown keys were already reported when
/// this was made, so decoders only ever see keys they know.
struct Fields {
    /// Where the mapping starts, for "missing key" problems.
    let mark: SourceMark
    private let entries: [String: YAMLMappingEntry]

    init(mark: SourceMark, entries: [YAMLMappingEntry]) {
        self.mark = mark
        var byKey: [String: YAMLMappingEntry] = [:]
        for entry in entries { byKey[entry.key.value] = entry }
        self.entries = byKey
    }

    /// The value under `key`; nil when the key is absent or has no value (`key:` or `null`),
    /// which the configuration treats alike: the default applies.
    subscript(key: String) -> YAMLNode? {
        guard let value = entries[key]?.value, !value.isNull else { return nil }
        return value
    }

    /// The key and value as written, including a null value.
    func entry(_ key: String) -> YAMLMappingEntry? {
        entries[key]
    }
}

extension ConfigDecoder {
    /// The known keys of a mapping node; reports a node that is not a mapping, and every
    /// unknown key (with the closest known key when one is near).
    mutating func fields(of node: YAMLNode, for what: String, known: [String]) -> Fields? {
        guard case .mapping(let entries, let mark) = node else {
            report(node.mark, "expected a mapping for \(what), got \(describe(node))")
            return nil
        }
        var accepted: [YAMLMappingEntry] = []
        for entry in entries {
            if known.contains(entry.key.value) {
                accepted.append(entry)
                continue
            }
            var message = "unknown key '\(entry.key.value)'"
            if let suggestion = KeySuggestion.closest(to: entry.key.value, in: known) {
                message += "; did you mean '\(suggestion)'?"
            } else {
                message += " in \(what); expected one of: \(known.joined(separator: ", "))"
            }
            report(entry.key.mark, message)
        }
        return Fields(mark: mark, entries: accepted)
    }

    /// The value of a required key; reports it (at the mapping) when absent, or (at the key)
    /// when written with no value. `reason` tells why the key is needed when that depends on
    /// another key ("needed for kind: file").
    mutating func required(_ key: String, in fields: Fields, reason: String? = nil) -> YAMLNode? {
        if let value = fields[key] { return value }
        let suffix = reason.map { " (\($0))" } ?? ""
        if let entry = fields.entry(key) {
            report(entry.key.mark, "missing value for '\(key)'\(suffix)")
        } else {
            report(fields.mark, "missing required key '\(key)'\(suffix)")
        }
        return nil
    }

    /// How a wrong value is shown in a message: a scalar's text, or its kind.
    func describe(_ node: YAMLNode) -> String {
        switch node {
        case .scalar(let scalar) where !scalar.isNull: return "'\(scalar.value)'"
        default: return node.kindDescription
        }
    }
}
