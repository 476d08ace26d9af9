/// The within-run memory of accepted events: a bounded set of dedup keys, oldest evicted
/// first. An event already accepted in this run is acknowledged without being resent.
///
/// The key is the API's own duplicate key, (event, distinct_id, time, `$insert_id`)
/// (Mixpanel's Ingestion API docs), so the window never skips an event the API would have kept.
/// It is stored as a 128-bit digest (two independent, per-process seeded multiply-rotate
/// lanes, 8 bytes at a time) in the eviction ring; an open-addressing table of 4-byte ring
/// positions, probed by the digest itself, finds it without hashing again: 100k entries cost
/// about 2.6 MiB (1.6 MiB of ring, reserved once, and a 1 MiB table), not the 5.7 MiB that a
/// table of the 16-byte digests themselves and a doubling ring took.
public struct DedupeWindow: Sendable {
    /// A 128-bit digest of one event's duplicate key; never all zero (that marks a free slot).
    public struct Key: Hashable, Sendable {
        var high: UInt64
        var low: UInt64

        /// Digests the duplicate key of `event`.
        public init(_ event: Event) {
            var digest = KeyDigest()
            digest.add(event.name)
            digest.add(event.distinctId)
            digest.add(UInt64(bitPattern: event.timeMs))
            digest.add(event.insertId)
            (high, low) = digest.finalize()
            if high == 0 && low == 0 { low = 1 }
        }

        /// The same digest from the bytes of the same fields (the event's JSON is made from
        /// them, so the key cannot drift from what is sent).
        init(
            name: UnsafeRawBufferPointer, distinctId: UnsafeRawBufferPointer, timeMs: Int64,
            insertId: UnsafeRawBufferPointer
        ) {
            var digest = KeyDigest()
            digest.add(bytes: name)
            digest.add(bytes: distinctId)
            digest.add(UInt64(bitPattern: timeMs))
            digest.add(bytes: insertId)
            (high, low) = digest.finalize()
            if high == 0 && low == 0 { low = 1 }
        }

        init(high: UInt64, low: UInt64) {
            self.high = high
            self.low = low
        }
    }

    public let capacity: Int
    /// Linear-probing table of ring positions + 1 (0: a free slot), probed by the key's digest.
    /// Grows to twice `capacity` at most.
    private var slots: [UInt32]
    private var mask: Int
    private var ring: [Key] = []
    private var next = 0

    /// Creates a window remembering the last `capacity` accepted events (0 disables it).
    public init(capacity: Int) {
        self.capacity = max(0, min(capacity, Int(UInt32.max) - 1))
        slots = Array(repeating: 0, count: 1024)
        mask = 1023
        ring.reserveCapacity(self.capacity)
    }

    /// Whether an event with this key was accepted within the window.
    public func contains(_ key: Key) -> Bool { find(key).found }

    /// Remembers an accepted event, evicting the oldest when full.
    public mutating func insert(_ key: Key) {
        guard capacity > 0 else { return }
        let (found, index) = find(key)
        if found { return }
        if ring.count < capacity {
            ring.append(key)
            slots[index] = UInt32(ring.count)
            if ring.count * 2 > slots.count { grow() }
        } else {
            remove(ring[next])
            ring[next] = key
            slots[find(key).index] = UInt32(next + 1)
            next = (next + 1) % capacity
        }
    }

    public var count: Int { ring.count }

    /// The slot holding `key`, or the free slot where it would go.
    private func find(_ key: Key) -> (found: Bool, index: Int) {
        var i = Int(truncatingIfNeeded: key.high) & mask
        while true {
            let slot = slots[i]
            if slot == 0 { return (false, i) }
            if ring[Int(slot) - 1] == key { return (true, i) }
            i = (i + 1) & mask
        }
    }

    /// Deletes `key` by shifting later entries of its probe run back (no tombstones).
    private mutating func remove(_ key: Key) {
        let (found, start) = find(key)
        guard found else { return }
        var hole = start
        var i = (hole + 1) & mask
        while true {
            let slot = slots[i]
            if slot == 0 { break }
            let home = Int(truncatingIfNeeded: ring[Int(slot) - 1].high) & mask
            // Move it into the hole unless its home lies cyclically in (hole, i].
            if (i - home) & mask >= (i - hole) & mask {
                slots[hole] = slot
                hole = i
            }
            i = (i + 1) & mask
        }
        slots[hole] = 0
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for position in ring.indices { slots[find(ring[position]).index] = UInt32(position + 1) }
    }
}

/// Two 64-bit multiply-rotate lanes over 8-byte words, with per-process random seeds and a
/// final avalanche; strings are length-prefixed so field boundaries cannot shift.
struct KeyDigest {
    private static let seeds = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))
    private var a = seeds.0
    private var b = seeds.1

    @inline(__always)
    mutating func add(_ word: UInt64) {
        a = (a ^ word) &* 0x9E37_79B9_7F4A_7C15
        a = (a << 29) | (a >> 35)
        b = (b ^ word) &* 0xC2B2_AE3D_27D4_EB4F
        b = (b << 31) | (b >> 33)
    }

    mutating func add(_ string: String) {
        var copy = string
        copy.withUTF8 { add(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// A string's UTF-8 bytes, exactly as `add(_: String)` digests them.
    mutating func add(bytes raw: UnsafeRawBufferPointer) {
        add(UInt64(raw.count))
        var i = 0
        while i + 8 <= raw.count {
            add(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        if i < raw.count {
            var tail: UInt64 = 0
            for k in i..<raw.count { tail |= UInt64(raw[k]) << (UInt64(k - i) * 8) }
            add(tail)
        }
    }

    func finalize() -> (UInt64, UInt64) {
        (Self.mix(a), Self.mix(b ^ 0x5851_F42D_4C95_7F2D))
    }

    /// MurmurHash3's 64-bit finaliser.
    private static func mix(_ x: UInt64) -> UInt64 {
        var h = x
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }
}
