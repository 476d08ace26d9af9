/// The agent's version, reported by `tailship --version` and in the `mp_lib` family of logs.
public enum TailshipVersion {
    public static let current = "0.1.0"
}
