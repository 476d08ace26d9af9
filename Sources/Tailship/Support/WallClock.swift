#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The wall clock in milliseconds since the epoch: what checkpoints, dead letters, status and
/// events record. Elapsed time is measured with `ContinuousClock` or `Heartbeat` instead.
public enum WallClock {
    public static func nowMs() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
