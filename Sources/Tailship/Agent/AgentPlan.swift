import Foundation

/// A configuration that passed every check: decoded, rules compiled, secrets resolved.
/// `check`, `test` and `run` all build one, so they agree on what is valid.
public struct AgentPlan: @unchecked Sendable {
    public let config: AgentConfig
    /// One compiled engine per source, in `config.sources` order.
    public let engines: [RuleEngine]
    public let credentials: ShipCredentials

    /// Loads and validates `path`; throws `ConfigError` with every problem found, in file order.
    public static func load(path: String, environment: [String: String]) throws(ConfigError) -> AgentPlan {
        let config = try ConfigLoader.load(path: path, environment: environment)
        var problems: [ConfigProblem] = []
        var engines: [RuleEngine] = []
        for source in config.sources {
            let (engine, found) = RuleCompiler.compile(source, file: config.file)
            problems += found
            if let engine { engines.append(engine) }
        }
        var credentials = ShipCredentials()
        do {
            credentials = try ShipCredentials.resolve(config.destination, environment: environment)
        } catch {
            problems.append(ConfigProblem(file: config.file, mark: SourceMark(line: 1, column: 1), message: "\(error)"))
        }
        guard problems.isEmpty else {
            throw ConfigError(problems: problems.sorted { ($0.mark.line, $0.mark.column) < ($1.mark.line, $1.mark.column) })
        }
        return AgentPlan(config: config, engines: engines, credentials: credentials)
    }
}
