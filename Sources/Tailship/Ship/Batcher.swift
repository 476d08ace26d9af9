/// A closed batch: its items and the request body `[e1,e2,…]` their JSON makes, in
/// submission order. The body is built as the events arrive, so sending it copies nothing:
/// one allocation per batch instead of one per event, and no second copy to add brackets.
///
/// Once a body is compressed for sending (`compress`, on the compression thread), only the
/// compressed bytes are kept and the body is set aside; the delivery gives it back
/// (`restoreBody`) on the rare answers that need the events' JSON (a 413 split, dead
/// letters, a partial failure).
public struct Batch<Item>: Sendable where Item: Sendable {
    public var items: [Item]
    /// The request body (the events' JSON objects between brackets, comma-separated), or
    /// nothing while it is set aside.
    public private(set) var storage: [UInt8]
    /// Where each event's JSON ends in the body (it starts one byte after the previous end:
    /// after the opening bracket or a comma).
    public private(set) var ends: [Int]
    /// Size of the request body, also while it is set aside.
    public let bodyBytes: Int
    /// The body as one gzip member, once `compress` made it.
    public private(set) var gzipped: [UInt8]?

    /// Creates a batch from parallel arrays.
    public init(items: [Item], encoded: [[UInt8]]) {
        precondition(items.count == encoded.count)
        var storage: [UInt8] = []
        storage.reserveCapacity(
            Batcher<Item>.bodySize(encodedBytes: encoded.reduce(0) { $0 + $1.count }, count: encoded.count))
        var ends: [Int] = []
        ends.reserveCapacity(encoded.count)
        for json in encoded {
            storage.append(storage.isEmpty ? UInt8(ascii: "[") : UInt8(ascii: ","))
            storage += json
            ends.append(storage.count)
        }
        if storage.isEmpty { storage.append(UInt8(ascii: "[")) }
        storage.append(UInt8(ascii: "]"))
        self.init(items: items, body: storage, ends: ends)
    }

    /// `body` is a whole request body: `[`, the events separated by commas (ending at `ends`), `]`.
    init(items: [Item], body: [UInt8], ends: [Int]) {
        precondition(items.count == ends.count && body.first == UInt8(ascii: "[") && body.last == UInt8(ascii: "]"))
        self.items = items
        self.storage = body
        self.ends = ends
        self.bodyBytes = body.count
    }

    public var count: Int { items.count }

    /// Whether the body is here (not set aside).
    public var holdsBody: Bool { storage.count == bodyBytes }

    /// Event `i`'s JSON, as a view of the body.
    public func json(at i: Int) -> ArraySlice<UInt8> {
        precondition(holdsBody, "the body is set aside")
        return storage[(i == 0 ? 1 : ends[i - 1] + 1)..<ends[i]]
    }

    /// Each item's event JSON (one object, no trailing newline), as arrays (dead letters, tests).
    public var encoded: [[UInt8]] { (0..<count).map { Array(json(at: $0)) } }

    /// The `/import` (or `/track`) request body: a JSON array (`Content-Type: application/json`).
    /// It shares the batch's storage: no copy.
    public func body() -> [UInt8] {
        precondition(holdsBody, "the body is set aside")
        return storage
    }

    /// Drops the body, to hold only a compressed copy of it while the request is in flight.
    public mutating func setBodyAside() {
        storage = []
    }

    /// Compresses the body into `gzipped` and sets it aside: a closed batch waiting for a slot,
    /// and then in flight, holds about a fifth of its JSON.
    public mutating func compress(with compressor: GzipCompressor) throws(GzipError) {
        precondition(holdsBody, "the body is set aside")
        gzipped = try compressor.compress(storage)
        setBodyAside()
    }

    /// Gives back the body set aside (`body` must be it, for example inflated from the copy).
    public mutating func restoreBody(_ body: [UInt8]) {
        precondition(body.count == bodyBytes, "not the body set aside")
        storage = body
    }

    /// The events one per line, each followed by a newline (NDJSON, for local sinks).
    public func lines() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bodyBytes)
        for i in 0..<count {
            out += json(at: i)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    /// The two halves, for resending after a 413; nil for a single event.
    public func split() -> (Batch, Batch)? {
        guard count > 1 else { return nil }
        precondition(holdsBody, "the body is set aside")
        let mid = count / 2
        // The comma before the second half's first event becomes its opening bracket.
        let cut = ends[mid - 1]
        var first = Array(storage[..<cut])
        first.append(UInt8(ascii: "]"))
        var second = [UInt8(ascii: "[")]
        second += storage[(cut + 1)...]
        return (
            Batch(items: Array(items[..<mid]), body: first, ends: Array(ends[..<mid])),
            Batch(items: Array(items[mid...]), body: second, ends: ends[mid...].map { $0 - cut })
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
    /// The open batch's body so far: `[` and its events, comma-separated (no closing bracket).
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
        let separatorAt = storage.count
        storage.append(items.isEmpty ? UInt8(ascii: "[") : UInt8(ascii: ","))
        encode(&storage)
        // With its closing bracket, the body would be one byte longer than what it holds now.
        if !items.isEmpty && storage.count + 1 > maxBytes {
            // It does not fit: the open batch closes without it, and it opens the next one.
            var next = [UInt8(ascii: "[")]
            next += storage[(separatorAt + 1)...]
            storage.removeSubrange(separatorAt...)
            if let batch = take() { closed.append(batch) }
            // Room for a batch like the one just closed, as when a batch opens after an add.
            next.reserveCapacity(lastBatchBytes)
            storage = next
        }
        if items.isEmpty { openedAtMs = nowMs }
        items.append(item)
        ends.append(storage.count)
        if items.count >= maxEvents || storage.count + 1 >= maxBytes, let batch = take() {
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
        storage.append(UInt8(ascii: "]"))
        let batch = Batch(items: items, body: storage, ends: ends)
        lastBatchBytes = min(storage.count, maxBytes)
        items = []
        storage = []
        ends = []
        openedAtMs = nil
        return batch
    }
}
