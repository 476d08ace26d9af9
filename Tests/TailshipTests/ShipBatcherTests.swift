import Testing

@testable import Tailship

@Suite struct ShipBatcherTests {
    static func json(_ n: Int) -> [UInt8] { Array(repeating: UInt8(ascii: "x"), count: n) }

    @Test func closesAtMaxEvents() {
        var batcher = Batcher<Int>(maxEvents: 3, maxBytes: 1_000_000, flushIntervalMs: 1000)
        #expect(batcher.add(1, encoded: Self.json(5), nowMs: 0).isEmpty)
        #expect(batcher.add(2, encoded: Self.json(5), nowMs: 0).isEmpty)
        let closed = batcher.add(3, encoded: Self.json(5), nowMs: 0)
        #expect(closed.map(\.items) == [[1, 2, 3]])
        #expect(batcher.pendingCount == 0)
        #expect(batcher.deadlineMs == nil)
    }

    @Test func closesBeforeExceedingMaxBytes() {
        // Body of two 10-byte events is 2 + 10 + 1 + 10 = 23 bytes.
        var batcher = Batcher<Int>(maxEvents: 100, maxBytes: 30, flushIntervalMs: 1000)
        #expect(batcher.add(1, encoded: Self.json(10), nowMs: 0).isEmpty)
        #expect(batcher.add(2, encoded: Self.json(10), nowMs: 0).isEmpty)
        let closed = batcher.add(3, encoded: Self.json(10), nowMs: 0)  // would be 34 bytes
        #expect(closed.map(\.items) == [[1, 2]])
        #expect(closed[0].bodyBytes == 23)
        #expect(closed[0].body().count == 23)
        #expect(batcher.pendingCount == 1)
    }

    @Test func closesExactlyAtMaxBytes() {
        var batcher = Batcher<Int>(maxEvents: 100, maxBytes: 23, flushIntervalMs: 1000)
        #expect(batcher.add(1, encoded: Self.json(10), nowMs: 0).isEmpty)
        #expect(batcher.add(2, encoded: Self.json(10), nowMs: 0).map(\.items) == [[1, 2]])
    }

    @Test func oversizedEventTravelsAlone() {
        var batcher = Batcher<Int>(maxEvents: 100, maxBytes: 50, flushIntervalMs: 1000)
        #expect(batcher.add(1, encoded: Self.json(10), nowMs: 0).isEmpty)
        let closed = batcher.add(2, encoded: Self.json(80), nowMs: 0)
        #expect(closed.map(\.items) == [[1], [2]])
        #expect(batcher.pendingCount == 0)
        #expect(batcher.add(3, encoded: Self.json(80), nowMs: 0).map(\.items) == [[3]])
    }

    @Test func closesWhenFlushIntervalElapsedSinceFirstEvent() {
        var batcher = Batcher<Int>(maxEvents: 100, maxBytes: 1000, flushIntervalMs: 1000)
        #expect(batcher.tick(nowMs: 5000) == nil)
        _ = batcher.add(1, encoded: Self.json(3), nowMs: 100)
        _ = batcher.add(2, encoded: Self.json(3), nowMs: 900)
        #expect(batcher.deadlineMs == 1100)
        #expect(batcher.tick(nowMs: 1099) == nil)
        #expect(batcher.tick(nowMs: 1100)?.items == [1, 2])
        #expect(batcher.deadlineMs == nil)
        _ = batcher.add(3, encoded: Self.json(3), nowMs: 2000)
        #expect(batcher.deadlineMs == 3000)
        #expect(batcher.flush()?.items == [3])
        #expect(batcher.flush() == nil)
    }

    @Test func bodyIsAJSONArrayAndSplitsInHalves() {
        let batch = Batch(items: [1, 2, 3], encoded: [Array("{\"a\":1}".utf8), Array("{}".utf8), Array("[]".utf8)])
        #expect(String(decoding: batch.body(), as: UTF8.self) == "[{\"a\":1},{},[]]")
        #expect(batch.bodyBytes == batch.body().count)
        let halves = batch.split()
        #expect(halves?.0.items == [1])
        #expect(halves?.1.items == [2, 3])
        #expect(halves?.1.encoded == [Array("{}".utf8), Array("[]".utf8)])
        #expect(Batch(items: [1], encoded: [[]]).split() == nil)
        #expect(String(decoding: Batch<Int>(items: [], encoded: []).body(), as: UTF8.self) == "[]")
    }

    @Test func dedupeWindowEvictsOldest() {
        var window = DedupeWindow(capacity: 2)
        let keys = (0..<3).map { DedupeWindow.Key(Event(name: "e", distinctId: "d", timeMs: 1, insertId: "id-\($0)")) }
        window.insert(keys[0])
        window.insert(keys[1])
        window.insert(keys[1])
        #expect(window.contains(keys[0]) && window.contains(keys[1]))
        window.insert(keys[2])
        #expect(!window.contains(keys[0]))
        #expect(window.contains(keys[1]) && window.contains(keys[2]))
        #expect(window.count == 2)
        // The key is the API's duplicate key: a different time is a different event.
        let other = DedupeWindow.Key(Event(name: "e", distinctId: "d", timeMs: 2, insertId: "id-2"))
        #expect(!window.contains(other))
    }

    /// Through growth and many evictions (with colliding probe runs), the window holds exactly
    /// the last `capacity` keys.
    @Test func dedupeWindowHoldsExactlyTheLastCapacityKeys() {
        let capacity = 5000
        var window = DedupeWindow(capacity: capacity)
        // Four keys share each `high` (their probe start): runs long enough that removal shifts.
        let keys = (0..<(3 * capacity + 17)).map {
            DedupeWindow.Key(high: UInt64($0 / 4) &* 0x9E37_79B9_7F4A_7C15, low: UInt64($0) | 1 << 63)
        }
        for (n, key) in keys.enumerated() {
            window.insert(key)
            if n % 997 == 0 {
                #expect(window.count == min(n + 1, capacity))
                #expect(window.contains(key))
            }
        }
        let kept = keys.suffix(capacity)
        #expect(kept.allSatisfy { window.contains($0) })
        #expect(keys.dropLast(capacity).allSatisfy { !window.contains($0) })
    }
}

extension Batch: Equatable where Item: Equatable {
    public static func == (a: Batch, b: Batch) -> Bool { a.items == b.items && a.encoded == b.encoded }
}
