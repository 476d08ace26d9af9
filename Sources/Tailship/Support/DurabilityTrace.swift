import Synchronization

/// Records, while a test asks for it, the calls that make a file durable (write, fsync,
/// rename, fsync of the directory) on paths under one prefix, so the test can check their
/// order: a crash-safe replace is only crash-safe in that order. Off (one lock, no record)
/// otherwise.
enum DurabilityTrace {
    private static let state = Mutex<(prefix: String, calls: [String])?>(nil)

    /// Starts recording calls on paths under `prefix`.
    static func start(prefix: String) {
        state.withLock { $0 = (prefix, []) }
    }

    /// Stops recording; returns the calls, as `"<call> <path>"`.
    static func stop() -> [String] {
        state.withLock { state in
            defer { state = nil }
            return state?.calls ?? []
        }
    }

    static func record(_ call: String, _ path: String) {
        state.withLock { state in
            guard let prefix = state?.prefix, path.hasPrefix(prefix) else { return }
            state?.calls.append("\(call) \(path)")
        }
    }
}
