/// Encodes an `Event` as the JSON object Mixpanel ingests, by hand into a byte buffer.
///
/// Shape: `{"event":"…","properties":{"time":<int ms>,"distinct_id":"…","$insert_id":"…",
/// "ip":"…"[,"token":"…"],<rule properties in order>}}`. `token` is added only for the
/// `/track` endpoint, where it is the credential (Mixpanel's Ingestion API docs). Floats print in
/// their shortest round-trip form; NaN and infinities become `null` (JSON has no such
/// numbers). The same bytes are sent on every retry, so dedup keys never drift.
public struct EventEncoder: Sendable {
    /// Project token written into each event's properties, for `/track`; nil for `/import`.
    public var token: String?

    /// Creates an encoder; pass the project token only for the `/track` endpoint.
    public init(token: String? = nil) {
        self.token = token
    }

    /// Returns the event's JSON object as UTF-8 bytes.
    public func encode(_ event: Event) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(160 + event.properties.count * 32)
        append(event, to: &out)
        return out
    }

    /// Appends the event's JSON object to `out`; returns where its `$insert_id` (the string's
    /// bytes, without the quotes) lies in `out`.
    @discardableResult
    public func append(_ event: Event, to out: inout some ByteOutput) -> Range<Int> {
        JSONWriter.append(Keys.event, to: &out)
        JSONWriter.appendString(event.name, to: &out)
        JSONWriter.append(Keys.time, to: &out)
        JSONWriter.appendInt(event.timeMs, to: &out)
        JSONWriter.append(Keys.distinctId, to: &out)
        JSONWriter.appendString(event.distinctId, to: &out)
        JSONWriter.append(Keys.insertId, to: &out)
        let idStart = out.byteCount + 1
        JSONWriter.appendString(event.insertId, to: &out)
        let insertId = idStart..<(out.byteCount - 1)
        JSONWriter.append(Keys.ip, to: &out)
        JSONWriter.appendString(event.ip, to: &out)
        if let token {
            JSONWriter.append(Keys.token, to: &out)
            JSONWriter.appendString(token, to: &out)
        }
        for property in event.properties {
            out.write(UInt8(ascii: ","))
            JSONWriter.appendString(property.name, to: &out)
            out.write(UInt8(ascii: ":"))
            switch property.value {
            case .string(let s): JSONWriter.appendString(s, to: &out)
            case .int(let i): JSONWriter.appendInt(i, to: &out)
            case .float(let d): JSONWriter.appendDouble(d, to: &out)
            case .bool(let b): JSONWriter.appendBool(b, to: &out)
            }
        }
        JSONWriter.append(Keys.close, to: &out)
        return insertId
    }

    /// `,"token":"<token>"` exactly as `append` writes it into an event.
    public static func tokenFragment(_ token: String) -> [UInt8] {
        var out: [UInt8] = []
        JSONWriter.append(Keys.token, to: &out)
        JSONWriter.appendString(token, to: &out)
        return out
    }

    /// `json` without any occurrence of `fragment` (the token, for a dead letter). Inside a
    /// JSON string a quote is escaped, so the fragment can only match as a key and its value.
    public static func removing(_ fragment: [UInt8], from json: [UInt8]) -> [UInt8] {
        guard !fragment.isEmpty, json.count >= fragment.count else { return json }
        var out: [UInt8] = []
        out.reserveCapacity(json.count)
        var i = 0
        while i < json.count {
            if json[i] == fragment[0], i + fragment.count <= json.count,
                json[i..<(i + fragment.count)].elementsEqual(fragment)
            {
                i += fragment.count
                continue
            }
            out.append(json[i])
            i += 1
        }
        return out
    }

    /// The fixed fragments, in static memory (appending one retains nothing).
    enum Keys {
        static let event: StaticString = #"{"event":"#
        static let time: StaticString = #","properties":{"time":"#
        static let distinctId: StaticString = #","distinct_id":"#
        static let insertId: StaticString = #","$insert_id":"#
        static let ip: StaticString = #","ip":"#
        static let token: StaticString = #","token":"#
        static let close: StaticString = "}}"
    }
}
