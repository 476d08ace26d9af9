import Testing

@testable import Tailship

/// A batch keeps its request body in one array (its events' JSON between brackets, separated
/// by commas): the bodies, the halves after a 413 and the NDJSON of local sinks are the same
/// bytes as from one array per event.
@Suite struct ShipBatchStorageTests {
    static func json(_ i: Int) -> [UInt8] {
        Array("{\"event\":\"e\(i)\",\"pad\":\"\(String(repeating: "x", count: i % 7))\"}".utf8)
    }

    /// The batches closed by adding `count` events, one way or the other.
    static func batches(count: Int, encodeInPlace: Bool) -> [Batch<Int>] {
        var batcher = Batcher<Int>(maxEvents: 5, maxBytes: 120, flushIntervalMs: 1000)
        var closed: [Batch<Int>] = []
        for i in 0..<count {
            if encodeInPlace {
                closed += batcher.add(i, nowMs: UInt64(i)) { $0 += json(i) }
            } else {
                closed += batcher.add(i, encoded: json(i), nowMs: UInt64(i))
            }
        }
        if let last = batcher.flush() { closed.append(last) }
        return closed
    }

    @Test func encodingInPlaceClosesTheSameBatchesWithTheSameBodies() {
        let fromArrays = Self.batches(count: 40, encodeInPlace: false)
        let inPlace = Self.batches(count: 40, encodeInPlace: true)
        #expect(fromArrays.map(\.items) == inPlace.map(\.items))
        #expect(fromArrays.map { $0.body() } == inPlace.map { $0.body() })
        // Every event once, in order, and no body over the byte limit unless alone.
        #expect(inPlace.flatMap(\.items) == Array(0..<40))
        #expect(inPlace.allSatisfy { $0.bodyBytes <= 120 || $0.count == 1 })
        #expect(inPlace.contains { $0.count < 5 }, "some batches closed on bytes")
        for batch in inPlace {
            let expected =
                "[" + batch.items.map { String(decoding: Self.json($0), as: UTF8.self) }.joined(separator: ",") + "]"
            #expect(String(decoding: batch.body(), as: UTF8.self) == expected)
            #expect(batch.bodyBytes == batch.body().count)
            #expect(batch.encoded == batch.items.map(Self.json))
        }
    }

    @Test func halvesAndLinesKeepEachEventsBytes() throws {
        let batch = Batch(items: [1, 2, 3, 4, 5], encoded: [1, 2, 3, 4, 5].map(Self.json))
        let (first, second) = try #require(batch.split())
        #expect(first.items == [1, 2] && second.items == [3, 4, 5])
        #expect(first.encoded == [1, 2].map(Self.json) && second.encoded == [3, 4, 5].map(Self.json))
        #expect(Array(second.json(at: 0)) == Self.json(3))
        #expect(first.body().count + second.body().count == batch.body().count + 1)
        let lines = String(decoding: second.lines(), as: UTF8.self)
        #expect(lines == [3, 4, 5].map { String(decoding: Self.json($0), as: UTF8.self) + "\n" }.joined())
        #expect(Batch<Int>(items: [], encoded: []).lines().isEmpty)
    }

    /// While its compressed copy is in flight a batch holds no body; given back, it is the same.
    @Test func aBodySetAsideComesBackWhole() throws {
        var batch = Self.batches(count: 5, encodeInPlace: true)[0]
        let body = batch.body()
        let compressed = try GzipCompressor(level: 1).compress(body)
        batch.setBodyAside()
        #expect(!batch.holdsBody && batch.storage.isEmpty && batch.bodyBytes == body.count)
        batch.restoreBody(try #require(GzipCompressor.inflate(compressed, size: batch.bodyBytes)))
        #expect(batch.holdsBody && batch.body() == body)
        #expect(batch.encoded == batch.items.map(Self.json))
    }
}
