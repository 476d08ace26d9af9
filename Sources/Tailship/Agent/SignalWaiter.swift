#if canImport(Glibc)
    import Glibc
#endif

/// The signals the daemon acts on, received synchronously with `sigtimedwait` on the thread
/// that owns the agent's lifecycle, rather than in an async handler where almost nothing is safe.
public struct SignalWaiter: Sendable {
    public enum Received: Sendable, Equatable {
        case terminate(Int32)
        case reload
    }

    private static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    /// Blocks the handled signals for the calling thread and every thread it creates later.
    /// Call first thing in `main`, before any other thread exists, or a thread that does not
    /// block them could take the default action (exit) instead.
    public static func blockHandledSignals() {
        var set = signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
        // A write to a closed socket (an HTTP peer that went away) must be an error, not a death.
        signal(SIGPIPE, SIG_IGN)
    }

    public init() {}

    /// Waits up to `timeoutMs` for a handled signal; nil on timeout.
    public func wait(timeoutMs: Int) -> Received? {
        var set = Self.signalSet()
        var timeout = timespec(tv_sec: timeoutMs / 1000, tv_nsec: (timeoutMs % 1000) * 1_000_000)
        let sig = sigtimedwait(&set, nil, &timeout)
        switch sig {
        case SIGHUP: return .reload
        case SIGTERM, SIGINT: return .terminate(sig)
        default: return nil
        }
    }

    private static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for sig in handled { sigaddset(&set, sig) }
        return set
    }
}
