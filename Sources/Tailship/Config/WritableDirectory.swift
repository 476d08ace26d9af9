#if canImport(Glibc)
    import Glibc
#endif

/// Whether this user could create files in a directory (creating the directory first, if need
/// be): what `check` verifies for `state_dir` and for a `kind: file` destination, so that
/// `run` does not start only to fail at its first write.
enum WritableDirectory {
    /// Nil when `path` is (or could be made) a directory this user may create files in;
    /// otherwise why not, for a `FILE:LINE:COLUMN:` message.
    static func problem(_ path: String, creatable: Bool) -> String? {
        var candidate = path
        var info = stat()
        while stat(candidate, &info) != 0 {
            guard errno == ENOENT else { return "\(candidate): \(String(cString: strerror(errno)))" }
            guard creatable else { return "\(candidate) does not exist" }
            // The nearest existing ancestor must let this user create the rest.
            candidate = PathText.parent(of: candidate)
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return "\(candidate) is not a directory" }
        guard access(candidate, W_OK | X_OK) == 0 else {
            let reason = String(cString: strerror(errno))
            let role = candidate == path ? "" : " (to create \(path))"
            return "\(candidate)\(role) is not writable by this user (uid \(getuid())): \(reason)"
        }
        return nil
    }
}
