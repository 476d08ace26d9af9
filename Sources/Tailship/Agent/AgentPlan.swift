#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A configuration that passed every check: decoded, rules compiled, secrets resolved.
/// `check`, `test` and `run` all build one, so they agree on what is valid.
public struct AgentPlan: @unchecked Sendable {
    public let config: AgentConfig
    /// One compiled engine per source, in `config.sources` order.
    public let engines: [RuleEngine]
    public let credentials: ShipCredentials
    /// A digest of `ca_file`'s content when loaded: a reload compares it (`changesOnlyCredentials`).
    let caFileDigest: UInt64?

    /// Loads and validates `path`; throws `ConfigError` with every problem found, in file order.
    /// Without `checkSecrets` (a dry run) the credentials are left empty.
    /// `checkPaths` (`check`) also verifies the directories `run` writes into; `checkStateDir`
    /// (what writes state: `run`, `import`) only that `state_dir` is safe (docs/security.md).
    public static func load(
        path: String, environment: [String: String], checkSecrets: Bool = true, checkPaths: Bool = false,
        checkStateDir: Bool = false
    ) throws(ConfigError) -> AgentPlan {
        let draft = ConfigLoader.draft(
            path: path, environment: environment, checkSecrets: checkSecrets, checkPaths: checkPaths,
            checkStateDir: checkStateDir)
        var problems = draft.problems
        // Rules are compiled even when other parts are wrong, so one run reports everything;
        // a spot the decoder already flagged is not reported twice.
        let flagged = Set(draft.problems.map(\.mark))
        var engines: [RuleEngine] = []
        for source in draft.sources {
            let (engine, found) = RuleCompiler.compile(source, file: path)
            problems += found.filter { !flagged.contains($0.mark) }
            if let engine { engines.append(engine) }
        }
        guard let config = draft.config, problems.isEmpty else {
            var seen = Set<String>()
            let unique = problems.filter { seen.insert($0.description).inserted }
            throw ConfigError(
                problems: unique.sorted { ($0.mark.line, $0.mark.column) < ($1.mark.line, $1.mark.column) })
        }
        var credentials = ShipCredentials()
        if checkSecrets {
            do {
                credentials = try ShipCredentials.resolve(config.destination, environment: environment)
            } catch {
                // The decoder already checked each secret at its position; this is a race
                // (the file vanished in between), so the config's first line is as good as any.
                problems.append(
                    ConfigProblem(
                        file: config.file, mark: SourceMark(line: 1, column: 1),
                        message: "\(error)"))
            }
        }
        guard problems.isEmpty else { throw ConfigError(problems: problems) }
        return AgentPlan(
            config: config, engines: engines, credentials: credentials,
            caFileDigest: config.destination.caFile.flatMap { FileManager.default.contents(atPath: $0) }
                .map { FNV64.hash(Array($0)) })
    }
}

extension AgentPlan {
    /// `FILE:LINE:COLUMN: warning: …` for each source whose `paths` match no file right now: not
    /// an error (files that appear later are read), but a typo in a glob would otherwise go
    /// unnoticed for ever.
    public func unmatchedSourceWarnings() -> [String] {
        let matched = Set(Discovery(sources: config.sources.map { TailSource($0) }).scan().files.values)
        return config.sources.indices.filter { !matched.contains($0) }.map { index in
            let source = config.sources[index]
            return "\(config.file):\(source.mark.line):\(source.mark.column): warning: no file matches the paths of "
                + "source '\(source.name)' right now (\(source.paths.joined(separator: ", "))); they are watched, and files "
                + "that appear are read"
        }
    }
}
