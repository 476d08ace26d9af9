/// A closed batch: its items and their encoded JSON, in submission order. The JSON of all its
/// events sits in one array, back to back, with the offset where each ends: one allocation
/// per batch instead of one per event, and the request body is one copy of it.
public struct Batch<Item>: Sendable where Item: Sendable {
    public var items: [Item]
    /// The events' JSON objects (no separators), concatenated.
    public private(set) var storage: [UInt8]
    /// Where each event's JSON ends in `storage` (it starts where the previous one ends).
    public private(set) var ends: [Int]

    /// Creates a batch from parallel arrays.
    public init(items: [Item], encoded: [[UInt8]]) {
        precondition(items.count == encoded.count)
        var storage: [UInt8] = []
        storage.reserveCapacity(encoded.reduce(0) { $0 + $1.count })
        var ends: [Int] = []
        ends.reserveCapacity(encoded.count)
        for json in encoded {
            storage += json
            ends.append(storage.count)
        }
        self.init(items: items, storage: storage, ends: ends)
    }

    init(items: [Item], storage: [UInt8], ends: [Int]) {
        precondition(items.count == ends.count)
        self.items = items
        self.storage = storage
        self.ends = ends
    }

    public var count: Int { items.count }

    /// Event `i`'s JSON, as a view of the batch's storage.
    public func json(at i: Int) -> ArraySlice<UInt8> {
        storage[(i == 0 ? 0 : ends[i - 1])..<ends[i]]
    }

    /// Each item's event JSON (one object, no trailing newline), as arrays (dead letters, tests).
    public var encoded: [[UInt8]] { (0..<count).map { Array(json(at: $0)) } }

    /// Size of the request body `[e1,e2,…]`: the objects, the commas and the brackets.
    public var bodyBytes: Int {
        Batcher<Item>.bodySize(encodedBytes: storage.count, count: count)
    }

    /// The `/import` (or `/track`) request body: a JSON array (`Content-Type: application/json`).
    public func body() -> [UInt8] {
        joined(open: UInt8(ascii: "["), separator: UInt8(ascii: ","), close: UInt8(ascii: "]"))
    }

    /// The events one per line, each followed by a newline (NDJSON, for local sinks).
    public func lines() -> [UInt8] {
        var out = joined(open: nil, separator: UInt8(ascii: "\n"), close: nil)
        if count > 0 { out.append(UInt8(ascii: "\n")) }
        return out
    }

    private func joined(open: UInt8?, separator: UInt8, close: UInt8?) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bodyBytes)
        if let open { out.append(open) }
        storage.withUnsafeBytes { bytes in
            var start = 0
            for (i, end) in ends.enumerated() {
                if i > 0 { out.append(separator) }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                start = end
            }
        }
        if let close { out.append(close) }
        return out
    }

    /// The two halves, for resending after a 413; nil for a single event.
    public func split() -> (Batch, Batch)? {
        guard count > 1 else { return nil }
        let mid = count / 2
        let cut = ends[mid - 1]
        return (
            Batch(items: Array(items[..<mid]), storage: Array(storage[..<cut]), ends: Array(ends[..<mid])),
            Batch(
                items: Array(items[mid...]), storage: Array(storage[cut...]), ends: ends[mid...].map { $0 - cut })
        )
    }
}

/// Collects encoded events into batches; a value-type state machine with no I/O and no
/// clock of its own (the caller passes `nowMs`).
///
/// A batch closes when it holds `maxEvents`, when the next event would push the body
/// past `maxBytes` (uncompressed, which is what the API caps), or when `flushIntervalMs`
/// has passed since its first event. An event that alone exceeds `maxBytes` travels in a
/// batch of its own; the API then answers 413 and the shipper dead-letters it.
public struct Batcher<Item: Sendable>: Sendable {
    public let maxEvents: Int
    public let maxBytes: Int
    public let flushIntervalMs: UInt64

    private var items: [Item] = []
    /// The open batch's events' JSON, back to back, and where each ends.
    private var storage: [UInt8] = []
    private var ends: [Int] = []
    private var lastBatchBytes = 0
    private var openedAtMs: UInt64?

    /// Creates a batcher; limits below 1 are raised to 1.
    public init(maxEvents: Int, maxBytes: Int, flushIntervalMs: Int) {
        self.maxEvents = max(1, maxEvents)
        self.maxBytes = max(1, maxBytes)
        self.flushIntervalMs = UInt64(max(0, flushIntervalMs))
    }

    /// Creates a batcher from the configuration's batch section.
    public init(_ config: BatchConfig) {
        self.init(maxEvents: config.maxEvents, maxBytes: config.maxBytes, flushIntervalMs: config.flushIntervalMs)
    }

    /// Body size of `count` objects totalling `encodedBytes`: brackets plus commas.
    static func bodySize(encodedBytes: Int, count: Int) -> Int {
        encodedBytes + 2 + max(0, count - 1)
    }

    /// Events in the open batch.
    public var pendingCount: Int { items.count }

    /// When the open batch must close, if one is open.
    public var deadlineMs: UInt64? { openedAtMs.map { $0 + flushIntervalMs } }

    /// Adds one event; returns the batches this closed (zero, one or two), oldest first.
    public mutating func add(_ item: Item, encoded json: [UInt8], nowMs: UInt64) -> [Batch<Item>] {
        add(item, nowMs: nowMs) { $0 += json }
    }

    /// Adds one event whose JSON `encode` appends to the batch's storage (no array of its
    /// own); returns the batches this closed (zero, one or two), oldest first.
    public mutating func add(
        _ item: Item, nowMs: UInt64, encode: (inout [UInt8]) -> Void
    ) -> [Batch<Item>] {
        var closed: [Batch<Item>] = []
        // Room for a batch like the last one, taken when a batch opens (never while idle).
        if items.isEmpty && storage.capacity < lastBatchBytes { storage.reserveCapacity(lastBatchBytes) }
        let start = storage.count
        encode(&storage)
        let grown = Self.bodySize(encodedBytes: storage.count, count: items.count + 1)
        if !items.isEmpty && grown > maxBytes {
            // It does not fit: the open batch closes without it, and it opens the next one.
            let json = Array(storage[start...])
            storage.removeSubrange(start...)
            if let batch = take() { closed.append(batch) }
            storage = json
        }
        if items.isEmpty { openedAtMs = nowMs }
        items.append(item)
        ends.append(storage.count)
        let body = Self.bodySize(encodedBytes: storage.count, count: items.count)
        if items.count >= maxEvents || body >= maxBytes, let batch = take() {
            closed.append(batch)
        }
        return closed
    }

    /// Closes the open batch if its flush interval has elapsed at `nowMs`.
    public mutating func tick(nowMs: UInt64) -> Batch<Item>? {
        guard let deadline = deadlineMs, nowMs >= deadline else { return nil }
        return take()
    }

    /// Closes the open batch now, whatever its age (flush and shutdown).
    public mutating func flush() -> Batch<Item>? {
        take()
    }

    private mutating func take() -> Batch<Item>? {
        guard !items.isEmpty else { return nil }
        let batch = Batch(items: items, storage: storage, ends: ends)
        lastBatchBytes = min(storage.count, maxBytes)
        items = []
        storage = []
        ends = []
        openedAtMs = nil
        return batch
    }
}
