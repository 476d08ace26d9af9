/// Where the configuration file is, for every command that takes `-c`.
public enum ConfigPath {
    /// The `-c` value when given, else `$TAILSHIP_CONFIG` when set and non-empty, else
    /// `/etc/tailship/agent.yaml` (`ConfigDefaults.configPath`).
    public static func resolve(explicit: String?, environment: [String: String]) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment[ConfigDefaults.configEnv], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return ConfigDefaults.configPath
    }
}
