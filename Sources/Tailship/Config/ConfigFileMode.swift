#if canImport(Glibc)
    import Glibc
#endif

/// Who may change the configuration: whoever can write it decides which files the agent reads
/// and where it sends them, so `check` warns when that is more than the file's owner.
public enum ConfigFileMode {
    /// `FILE: warning: …` when the file at `path` is writable by group or others; nil otherwise
    /// (and when it cannot be looked at: reading it reports that).
    public static func warning(path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & 0o022 != 0 else { return nil }
        let mode = String(info.st_mode & 0o7777, radix: 8)
        return "\(path): warning: the configuration is writable by group or others (mode \(mode)); whoever can "
            + "write it chooses what tailship reads and where it sends it: chmod go-w \(path)"
    }
}
