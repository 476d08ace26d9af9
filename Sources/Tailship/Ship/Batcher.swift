/// A closed batch: its items and their encoded JSON, in submission order.
public struct Batch<Item>: Sendable where Item: Sendable {
    public var items: [Item]
    /// Each item's event JSON (one object, no trailing newline).
    public var encoded: [[UInt8]]

    /// Creates a batch from parallel arrays.
    public init(items: [Item], encoded: [[UInt8]]) {
        precondition(items.count == encoded.count)
        self.items = items
        self.encoded = encoded
    }

    public var count: Int { items.count }

    /// Size of the request body `[e1,e2,…]`: the objects, the commas and the brackets.
    public var bodyBytes: Int {
        Batcher<Item>.bodySize(encodedBytes: encoded.reduce(0) { $0 + $1.count }, count: count)
    }

    /// The `/import` (or `/track`) request body: a JSON array (`Content-Type: application/json`).
    public func body() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bodyBytes)
        out.append(UInt8(ascii: "["))
        for (i, json) in encoded.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: json)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// The two halves, for resending after a 413; nil for a single event.
    public func split() -> (Batch, Batch)? {
        guard count > 1 else { return nil }
        let mid = count / 2
        return (
            Batch(items: Array(items[..<mid]), encoded: Array(encoded[..<mid])),
            Batch(items: Array(items[mid...]), encoded: Array(encoded[mid...]))
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
    private var encoded: [[UInt8]] = []
    private var encodedBytes = 0
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
        var closed: [Batch<Item>] = []
        let grown = Self.bodySize(encodedBytes: encodedBytes + json.count, count: items.count + 1)
        if !items.isEmpty && grown > maxBytes, let batch = take() {
            closed.append(batch)
        }
        if items.isEmpty { openedAtMs = nowMs }
        items.append(item)
        encoded.append(json)
        encodedBytes += json.count
        let size = Self.bodySize(encodedBytes: encodedBytes, count: items.count)
        if items.count >= maxEvents || size >= maxBytes, let batch = take() {
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
        let batch = Batch(items: items, encoded: encoded)
        items = []
        encoded = []
        encodedBytes = 0
        openedAtMs = nil
        return batch
    }
}
