#if canImport(Glibc)
    import Glibc
#endif

/// A mutex with a condition variable, for the blocking hand-offs between tailship's own threads
/// (`NSCondition`'s shape, on pthreads, so that the library needs only FoundationEssentials).
///
/// Deadlines are instants of the monotonic clock, and the condition variable waits on
/// `CLOCK_MONOTONIC`: a wall clock set back (by NTP or by hand) cannot stretch a 100 ms wait
/// for room, or a batch's one-second flush, into the hour it was set back by.
final class Condition: @unchecked Sendable {
    // @unchecked: the pthread objects are what makes the callers' state thread-safe.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
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

    /// Waits for a signal until `deadline`; false when the deadline passed first (at once for
    /// a deadline already past).
    @discardableResult
    func wait(until deadline: ContinuousClock.Instant) -> Bool {
        let remaining = deadline - .now
        guard remaining > .zero else { return false }
        // The time left, from now on CLOCK_MONOTONIC (ContinuousClock's own clock also counts a
        // suspended machine's sleep; the difference does not matter for a wait).
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        let (seconds, attoseconds) = remaining.components
        var nanoseconds = Int64(time.tv_nsec) + attoseconds / 1_000_000_000
        let carry = nanoseconds / 1_000_000_000
        nanoseconds %= 1_000_000_000
        // A deadline centuries away is a wait without one.
        guard seconds < Int64(Int32.max) else {
            wait()
            return true
        }
        time.tv_sec += Int(seconds + carry)
        time.tv_nsec = Int(nanoseconds)
        return pthread_cond_timedwait(condition, mutex, &time) != ETIMEDOUT
    }

    func signal() { pthread_cond_signal(condition) }

    func broadcast() { pthread_cond_broadcast(condition) }
}
