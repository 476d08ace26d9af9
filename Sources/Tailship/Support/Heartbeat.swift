import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// When a thread that loops on a timer last went round: the systemd watchdog is pinged only
/// while every such thread of the pipeline turns (a deadlocked stage stops its pings, and
/// systemd restarts the agent). One relaxed atomic store per turn.
public final class Heartbeat: Sendable {
    private let lastNs = Atomic<Int64>(Heartbeat.nowNs())

    public init() {}

    /// The thread went round.
    public func beat() {
        lastNs.store(Self.nowNs(), ordering: .relaxed)
    }

    /// Seconds since the last beat.
    public var ageSeconds: Double {
        Double(Self.nowNs() - lastNs.load(ordering: .relaxed)) / 1e9
    }

    static func nowNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
