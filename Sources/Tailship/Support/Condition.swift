#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// A mutex with a condition variable, for the blocking hand-offs between tailship's own threads
/// (`NSCondition`'s shape, on pthreads, so that the library needs only FoundationEssentials).
/// Deadlines are wall-clock `Date`s, as with `NSCondition.wait(until:)`.
final class Condition: @unchecked Sendable {
    // @unchecked: the pthread objects are what makes the callers' state thread-safe.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }

    func unlock() { pthread_mutex_unlock(mutex) }

    /// Waits for a signal (or a spurious wake-up); the caller holds the lock and re-checks.
    func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits for a signal until `deadline`; false when the deadline passed first.
    @discardableResult
    func wait(until deadline: Date) -> Bool {
        let seconds = deadline.timeIntervalSince1970
        guard seconds.isFinite else {
            if seconds > 0 { wait() }
            return seconds > 0
        }
        let whole = seconds.rounded(.down)
        var time = timespec(
            tv_sec: Int(clamping: Int64(max(min(whole, 9e15), 0))),
            tv_nsec: Int(max(0, min(999_999_999, (seconds - whole) * 1e9))))
        return pthread_cond_timedwait(condition, mutex, &time) != ETIMEDOUT
    }

    func signal() { pthread_cond_signal(condition) }

    func broadcast() { pthread_cond_broadcast(condition) }
}
