/// An interruptible sleep and a count of running threads, for bounded-time shutdown.
final class StopSignal: @unchecked Sendable {
    // @unchecked: guarded by `condition`.
    private let condition = Condition()
    private var abandoned = false
    private var running = 0

    var isAbandoned: Bool {
        condition.lock()
        defer { condition.unlock() }
        return abandoned
    }

    /// Sleeps `ms` milliseconds unless abandoned first; returns false when abandoned.
    func sleep(ms: Int) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(ms)
        condition.lock()
        defer { condition.unlock() }
        while !abandoned {
            if !condition.wait(until: deadline) { return !abandoned }
        }
        return false
    }

    func abandon() {
        condition.lock()
        abandoned = true
        condition.broadcast()
        condition.unlock()
    }

    /// Starts a named thread running `body`, counted until it returns.
    func spawn(name: String, _ body: @escaping @Sendable () -> Void) {
        condition.lock()
        running += 1
        condition.unlock()
        OwnedThread.start(name: name) { [self] in
            body()
            condition.lock()
            running -= 1
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Waits until every spawned thread has returned, or `deadline`; true if they all did.
    func waitForThreads(until deadline: ContinuousClock.Instant) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while running > 0 {
            if !condition.wait(until: deadline) { return running == 0 }
        }
        return true
    }
}
