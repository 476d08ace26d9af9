#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Reads, parses and validates a configuration file into an `AgentConfig`.
///
/// Every problem is collected and thrown together, in file order, each at the position of the
/// offending key or value: YAML syntax, unknown keys (with a suggestion), wrong types, bad
/// enums, durations and sizes, ranges, cross-key rules, unset secrets and unknown time zones.
/// Patterns and templates are not checked here: `RuleCompiler` does that with the marks kept in
/// the `Located` values.
public enum ConfigLoader {
    /// Loads the file at `path`; an unreadable file is one problem at 1:1. `checkSecrets: false`
    /// skips resolving the destination's secrets (for `tailship test`, which sends nothing).
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        checkSecrets: Bool = true
    ) throws(ConfigError) -> AgentConfig {
        let bytes: [UInt8]
        do {
            bytes = try ConfigFileReader.readAll(path, limit: ConfigDefaults.maxConfigFileBytes)
        } catch {
            let problem = ConfigProblem(
                file: path, mark: SourceMark(line: 1, column: 1),
                message: "cannot read the configuration: \(error.reason)")
            throw ConfigError(problems: [problem])
        }
        return try decode(bytes: bytes, file: path, environment: environment, checkSecrets: checkSecrets)
    }

    /// Parses configuration `text`; `file` is only used in problems and `AgentConfig.file`.
    public static func parse(
        text: String, file: String, environment: [String: String], checkSecrets: Bool = true
    ) throws(ConfigError) -> AgentConfig {
        try decode(bytes: Array(text.utf8), file: file, environment: environment, checkSecrets: checkSecrets)
    }

    /// What decoding made of a file: the configuration when it is valid, the sources as far as
    /// they decoded (so rule checks can run even when other parts are wrong), and the problems.
    public struct Draft: Sendable {
        public var config: AgentConfig?
        public var sources: [SourceConfig]
        public var problems: [ConfigProblem]
    }

    /// Like `load`, but returns the problems instead of throwing them, with whatever decoded.
    /// `checkPaths` (`tailship check`) also verifies what `run` will write: `state_dir`, and a
    /// `kind: file` destination's directory (`run` itself fails at start instead, exit 2).
    /// `checkStateDir` (implied by `checkPaths`) refuses a `state_dir` another user could write.
    public static func draft(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        checkSecrets: Bool = true, checkPaths: Bool = false, checkStateDir: Bool = false
    ) -> Draft {
        do {
            let bytes = try ConfigFileReader.readAll(path, limit: ConfigDefaults.maxConfigFileBytes)
            return draft(
                bytes: bytes, file: path, environment: environment, checkSecrets: checkSecrets, checkPaths: checkPaths,
                checkStateDir: checkStateDir)
        } catch {
            let problem = ConfigProblem(
                file: path, mark: SourceMark(line: 1, column: 1),
                message: "cannot read the configuration: \(error.reason)")
            return Draft(config: nil, sources: [], problems: [problem])
        }
    }

    private static func decode(
        bytes: [UInt8], file: String, environment: [String: String], checkSecrets: Bool
    ) throws(ConfigError) -> AgentConfig {
        let result = draft(bytes: bytes, file: file, environment: environment, checkSecrets: checkSecrets)
        guard result.problems.isEmpty, let config = result.config else { throw ConfigError(problems: result.problems) }
        return config
    }

    private static func draft(
        bytes: [UInt8], file: String, environment: [String: String], checkSecrets: Bool, checkPaths: Bool = false,
        checkStateDir: Bool = false
    ) -> Draft {
        let parsed = YAMLTreeBuilder.build(bytes: bytes, file: file)
        guard parsed.isComplete else { return Draft(config: nil, sources: [], problems: inFileOrder(parsed.problems)) }
        var decoder = ConfigDecoder(
            file: file, environment: environment, checkSecrets: checkSecrets, checkPaths: checkPaths,
            checkStateDir: checkStateDir)
        let config = decoder.decodeAgent(parsed.root)
        let problems = inFileOrder(parsed.problems + decoder.problems)
        return Draft(config: problems.isEmpty ? config : nil, sources: decoder.decodedSources, problems: problems)
    }

    /// Sorts by position, keeping the order of problems found at the same spot.
    private static func inFileOrder(_ problems: [ConfigProblem]) -> [ConfigProblem] {
        problems.enumerated().sorted { a, b in
            (a.element.mark.line, a.element.mark.column, a.offset) < (
                b.element.mark.line, b.element.mark.column, b.offset
            )
        }.map(\.element)
    }
}
