#if canImport(Glibc)
    import Glibc
#endif

/// Why a secret could not be obtained. No case carries the secret's value, so printing one can
/// never leak it.
public enum SecretError: Error, Sendable, Equatable, CustomStringConvertible {
    case environmentUnset(name: String)
    case environmentEmpty(name: String)
    case fileUnreadable(path: String, reason: String)
    case fileEmpty(path: String)
    /// Group or others may read or write it (`mode` in octal, e.g. "644").
    case fileExposed(path: String, mode: String)

    public var description: String {
        switch self {
        case .environmentUnset(let name): return "environment variable '\(name)' is not set"
        case .environmentEmpty(let name): return "environment variable '\(name)' is empty"
        case .fileUnreadable(let path, let reason): return "cannot read secret file '\(path)': \(reason)"
        case .fileEmpty(let path): return "secret file '\(path)' is empty"
        case .fileExposed(let path, let mode):
            return "secret file '\(path)' is readable or writable by group or others (mode \(mode)); chmod 600 \(path)"
        }
    }
}

/// Reads secrets (API secret, project token) from where the configuration says they are.
/// Called at load time to validate and again by the shipper (and on SIGHUP) to pick up rotations.
/// A secret file readable or writable by group or others is refused wherever it is read.
public enum SecretResolver {
    /// A secret file is a line of text; anything this large is the wrong file.
    static let maxFileBytes = 64 * 1024

    /// The secret's value: the environment variable's content, or the file's content without
    /// its trailing newline(s). Throws when unset, empty or unreadable.
    public static func resolve(_ source: SecretSource, environment: [String: String]) throws(SecretError) -> String {
        switch source {
        case .env(let name):
            guard let value = environment[name] else { throw .environmentUnset(name: name) }
            guard !value.isEmpty else { throw .environmentEmpty(name: name) }
            return value
        case .file(let path):
            let bytes: [UInt8]
            var exposedMode: mode_t?
            do {
                // Mode 0600 or narrower (or a credential systemd's LoadCredential= shares with
                // this user alone): a secret other users can read is no longer one, and one they
                // can write is theirs.
                bytes = try ConfigFileReader.readAll(path, limit: maxFileBytes) { fd, info in
                    guard SecretFileAccess.isExposed(fd: fd, mode: UInt32(info.st_mode), euid: geteuid()) else {
                        return nil
                    }
                    exposedMode = info.st_mode & 0o7777
                    return "exposed"
                }
            } catch {
                if let exposedMode { throw .fileExposed(path: path, mode: String(exposedMode, radix: 8)) }
                throw .fileUnreadable(path: path, reason: error.reason)
            }
            var end = bytes.endIndex
            while end > bytes.startIndex, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") {
                end -= 1
            }
            guard end > bytes.startIndex else { throw .fileEmpty(path: path) }
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
    }
}
