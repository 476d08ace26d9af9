/// Events already encoded, as one `Shipper.submit` hands them over: their JSON back to back
/// in one array, and per event only what the shipper needs after that. The batching thread
/// copies the bytes into a batch without encoding anything again; the submit queue weighs a
/// group by what it really holds.
public struct EncodedEvents: Sendable {
    struct Entry: Sendable {
        /// Where its JSON ends in `json` (it starts where the previous one ends).
        var end: Int
        /// `DedupeWindow.Key` of the event.
        var key: DedupeWindow.Key
        /// The event's `time` (the `/track` age check).
        var timeMs: Int64
        /// Its `$insert_id`'s bytes within its own JSON (partial failures are matched by it).
        var insertId: Range<Int>
        var origin: EventOrigin
    }

    private(set) var json: [UInt8]
    private(set) var entries: [Entry]

    init(json: [UInt8], entries: [Entry]) {
        precondition(entries.last?.end ?? 0 == json.count)
        self.json = json
        self.entries = entries
    }

    /// Encodes `pending` with `encoder` (tests, and callers that made `Event`s).
    init(_ pending: [PendingEvent], encoder: EventEncoder) {
        var json: [UInt8] = []
        var entries: [Entry] = []
        entries.reserveCapacity(pending.count)
        for event in pending {
            let start = json.count
            let insertId = encoder.append(event.event, to: &json)
            entries.append(
                Entry(
                    end: json.count, key: DedupeWindow.Key(event.event), timeMs: event.event.timeMs,
                    insertId: (insertId.lowerBound - start)..<(insertId.upperBound - start), origin: event.origin))
        }
        self.init(json: json, entries: entries)
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// What the group holds in memory: its JSON and its entries (origins share their strings).
    public var bytes: Int { json.count + entries.count * Self.entryBytes }

    /// Memory per event besides its JSON.
    static let entryBytes = MemoryLayout<Entry>.stride

    /// Event `i`'s JSON.
    func json(at i: Int) -> ArraySlice<UInt8> {
        json[(i == 0 ? 0 : entries[i - 1].end)..<entries[i].end]
    }
}

extension Batch where Item == ShipItem {
    /// Event `i`'s `$insert_id`, read from its JSON (it is never escaped).
    func insertId(at i: Int) -> String {
        let event = json(at: i)
        let range = items[i].insertId
        return String(decoding: event.dropFirst(range.lowerBound).prefix(range.count), as: UTF8.self)
    }
}
