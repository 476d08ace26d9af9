/// The within-run memory of accepted events: a bounded set of dedup keys, oldest evicted
/// first. An event already accepted in this run is acknowledged without being resent.
///
/// The key is the API's own duplicate key, (event, distinct_id, time, `$insert_id`)
/// (INGESTION_API.md 3), so the window never skips an event the API would have kept.
/// It is stored as a 128-bit hash (two seeded SipHash passes) to keep the window small:
/// 100k entries cost about 4 MiB.
public struct DedupeWindow: Sendable {
    /// A 128-bit digest of one event's duplicate key.
    public struct Key: Hashable, Sendable {
        var high: Int
        var low: Int

        /// Digests the duplicate key of `event`.
        public init(_ event: Event) {
            var a = Hasher()
            var b = Hasher()
            a.combine(UInt8(1))  // two different seeds make two independent 64-bit digests
            b.combine(UInt8(2))
            Self.feed(&a, event)
            Self.feed(&b, event)
            high = a.finalize()
            low = b.finalize()
        }

        private static func feed(_ hasher: inout Hasher, _ event: Event) {
            hasher.combine(event.name)
            hasher.combine(event.distinctId)
            hasher.combine(event.timeMs)
            hasher.combine(event.insertId)
        }
    }

    public let capacity: Int
    private var members: Set<Key> = []
    private var ring: [Key] = []
    private var next = 0

    /// Creates a window remembering the last `capacity` accepted events (0 disables it).
    public init(capacity: Int) {
        self.capacity = max(0, capacity)
        members.reserveCapacity(min(self.capacity, 1 << 16))
    }

    /// Whether an event with this key was accepted within the window.
    public func contains(_ key: Key) -> Bool { members.contains(key) }

    /// Remembers an accepted event, evicting the oldest when full.
    public mutating func insert(_ key: Key) {
        guard capacity > 0, !members.contains(key) else { return }
        if ring.count < capacity {
            ring.append(key)
        } else {
            members.remove(ring[next])
            ring[next] = key
            next = (next + 1) % capacity
        }
        members.insert(key)
    }

    public var count: Int { members.count }
}
