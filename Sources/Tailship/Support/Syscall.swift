#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A C `errno` value with its `strerror` text; the raw value is kept so callers can branch on it.
public struct Errno: Error, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// The calling thread's current `errno`.
    public static var current: Errno { Errno(rawValue: errno) }

    public static let interrupted = Errno(rawValue: EINTR)
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    public static let noEntry = Errno(rawValue: ENOENT)
    public static let notDirectory = Errno(rawValue: ENOTDIR)
    public static let accessDenied = Errno(rawValue: EACCES)

    /// `strerror(3)` text, e.g. "No such file or directory".
    public var description: String { String(cString: strerror(rawValue)) }
}

/// A failed system call: which call, on what (a path, when there is one), and the errno.
public struct SyscallError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The C function that failed, e.g. `open` or `inotify_add_watch`.
    public var call: String
    public var errno: Errno
    /// The path the call was about, when it had one; it goes into the message.
    public var path: String?

    public init(_ call: String, errno: Errno, path: String? = nil) {
        self.call = call
        self.errno = errno
        self.path = path
    }

    public var description: String {
        if let path { return "\(call)(\(path)): \(errno) (errno \(errno.rawValue))" }
        return "\(call): \(errno) (errno \(errno.rawValue))"
    }
}

/// Runs a system call that returns -1 on failure, retrying while it fails with EINTR (a signal
/// arrived before it did anything), and turns any other failure into a `SyscallError`. The one
/// EINTR loop of the code base: every raw call goes through it.
@inlinable
public func syscallRetrying<Result: FixedWidthInteger>(
    _ call: String, path: String? = nil, _ body: () -> Result
) throws(SyscallError) -> Result {
    while true {
        let result = body()
        if result != -1 { return result }
        let err = Errno.current
        if err == .interrupted { continue }
        throw SyscallError(call, errno: err, path: path)
    }
}
