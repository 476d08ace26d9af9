/// Why a secret could not be obtained. No case carries the secret's value, so printing one can
/// never leak it.
public enum SecretError: Error, Sendable, Equatable, CustomStringConvertible {
    case environmentUnset(name: String)
    case environmentEmpty(name: String)
    case fileUnreadable(path: String, reason: String)
    case fileEmpty(path: String)

    public var description: String {
        switch self {
        case .environmentUnset(let name): return "environment variable '\(name)' is not set"
        case .environmentEmpty(let name): return "environment variable '\(name)' is empty"
        case .fileUnreadable(let path, let reason): return "cannot read secret file '\(path)': \(reason)"
        case .fileEmpty(let path): return "secret file '\(path)' is empty"
        }
    }
}

/// Reads secrets (API secret, project token) from where the configuration says they are.
/// Called at load time to validate and again by the shipper (and on SIGHUP) to pick up rotations.
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
            do {
                bytes = try ConfigFileReader.readAll(path, limit: maxFileBytes)
            } catch {
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
