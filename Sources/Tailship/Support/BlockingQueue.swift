/// A bounded FIFO shared between threads tailship owns: `put` blocks while the queue is full
/// (this is how backpressure reaches the reading thread), `take` blocks while it is empty. Capacity counts elements, or the sum of their `weight`s (a queue of event groups
/// counts events). After `close()`, `put` refuses new elements and `take` drains what is
/// left, then returns nil.
final class BlockingQueue<Element: Sendable>: @unchecked Sendable {
    // @unchecked: every stored property is guarded by `condition`.
    let capacity: Int
    private let weight: @Sendable (Element) -> Int
    /// Sum of the queued elements' weights.
    private var load = 0
    private let condition = Condition()
    private var items: [Element] = []
    private var head = 0
    private var closed = false
    private var wakeups = 0

    init(capacity: Int, weight: @escaping @Sendable (Element) -> Int = { _ in 1 }) {
        self.capacity = max(1, capacity)
        self.weight = weight
    }

    /// The sum of the queued elements' weights (bytes, for the shipper's submit queue).
    var queuedWeight: Int {
        condition.lock()
        defer { condition.unlock() }
        return load
    }

    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return items.count - head
    }

    /// Closed and empty: `take` would return nil.
    var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed && items.count == head
    }

    /// What a `put` did.
    enum PutResult: Sendable, Equatable {
        case added
        /// Still no room when the deadline passed: nothing appended.
        case full
        /// The queue is closed: nothing appended, and nothing ever will be.
        case closed
    }

    /// Appends `elements`, waiting while they do not fit. A group larger than the whole
    /// capacity goes in once the queue is empty, so it cannot wait forever.
    /// Returns false (and appends nothing) when the queue is or becomes closed.
    @discardableResult
    func put(_ elements: [Element]) -> Bool {
        put(elements, until: nil) == .added
    }

    /// `put` waiting at most until `deadline` (nil: as long as it takes; a past deadline: not at all).
    func put(_ elements: [Element], until deadline: ContinuousClock.Instant?) -> PutResult {
        guard !elements.isEmpty else { return .added }
        let added = elements.reduce(0) { $0 + weight($1) }
        condition.lock()
        defer { condition.unlock() }
        while !closed && (items.count - head) > 0 && load + added > capacity {
            if let deadline {
                if !condition.wait(until: deadline) && !closed && (items.count - head) > 0 && load + added > capacity {
                    return .full
                }
            } else {
                condition.wait()
            }
        }
        guard !closed else { return .closed }
        items.append(contentsOf: elements)
        load += added
        condition.broadcast()
        return .added
    }

    /// Removes up to `max` elements, waiting until some are there, `deadline` passes
    /// (returns `[]`), `wake()` is called (returns `[]` if still empty) or the queue is
    /// closed and drained (returns nil).
    func take(max: Int, until deadline: ContinuousClock.Instant? = nil) -> [Element]? {
        condition.lock()
        defer { condition.unlock() }
        let seenWakeups = wakeups
        while items.count == head {
            if closed { return nil }
            if wakeups != seenWakeups { return [] }
            if let deadline {
                if !condition.wait(until: deadline) && items.count == head { return closed ? nil : [] }
            } else {
                condition.wait()
            }
        }
        let end = Swift.min(items.count, head + Swift.max(1, max))
        let taken = Array(items[head..<end])
        for element in taken { load -= weight(element) }
        head = end
        // Compact once the consumed prefix dominates, keeping take amortised O(1). Taken
        // elements stay referenced until then, so no minimum: a queue of event groups taken
        // one by one would otherwise keep a thousand groups' events alive.
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return taken
    }

    /// Wakes a waiting `take` without adding anything (a flush request).
    func wake() {
        condition.lock()
        wakeups &+= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Refuses further puts and wakes every waiter; remaining elements can still be taken.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Closes and discards what is left (abandon at the stop deadline).
    func closeAndDiscard() {
        condition.lock()
        closed = true
        items.removeAll()
        head = 0
        load = 0
        condition.broadcast()
        condition.unlock()
    }
}
