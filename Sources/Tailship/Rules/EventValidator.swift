/// One reason the API would reject an event, named as the API names it in `failed_records`.
public struct EventProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The API's field name: `event`, `properties.time`, `properties.distinct_id`, `$insert_id`
    /// or `properties`.
    public var field: String
    /// The API-style message, e.g. `'event' must not be missing or blank`.
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    /// `field: message`, or the message alone when it already starts by naming the field.
    public var description: String { message.hasPrefix("'\(field)'") ? message : "\(field): \(message)" }
}

/// The Ingestion API's own per-event checks (Mixpanel's Ingestion API docs), applied before an event
/// is batched so a bad event is dead-lettered instead of spending a request.
///
/// Messages are the API's observed ones where known; the rest follow the same style.
public enum EventValidator {
    /// 1971-01-01T00:00:00Z in milliseconds: the API rejects anything earlier.
    public static let earliestTimeMs: Int64 = 31_536_000_000
    /// The API rejects times more than an hour ahead of its clock.
    public static let maxFutureMs: Int64 = 3_600_000
    /// Properties per event must stay below this (the four tailship always sends included).
    public static let maxProperties = 255
    public static let maxPropertyNameLength = 255
    /// Encoded events must stay below 1 MB.
    public static let maxEventBytes = 1_000_000

    /// A C0 control character (NUL, tab and newline included) or DEL. Scans bytes: ASCII ids
    /// cost one pass with no decoding.
    static func hasControl(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { RuleEngine.hasControl(UnsafeRawBufferPointer($0)) }
            ?? text.utf8.contains { $0 < 0x20 || $0 == 0x7F }
    }

    /// Every problem with `event`, given the current time `nowMs`. `insertIdKnownValid` skips
    /// the `$insert_id` check for ids the rule engine already normalised.
    public static func validate(_ event: Event, nowMs: Int64, insertIdKnownValid: Bool = false) -> [EventProblem] {
        var problems: [EventProblem] = []
        if isBlank(event.name) {
            problems.append(EventProblem(field: "event", message: "'event' must not be missing or blank"))
        } else if hasControl(event.name) {
            problems.append(EventProblem(field: "event", message: "'event' must not contain control characters"))
        }
        // A NUL or an escape in a user id splits one user in two in every report (and the API
        // keeps it): refused, like a placeholder.
        if hasControl(event.distinctId) {
            problems.append(
                EventProblem(
                    field: "properties.distinct_id",
                    message: "'properties.distinct_id' is invalid: must not contain control characters"))
        }
        if event.timeMs < earliestTimeMs {
            problems.append(
                EventProblem(
                    field: "properties.time", message: "'properties.time' is invalid: must not be before 1971-01-01"))
        } else if event.timeMs > nowMs + maxFutureMs {
            problems.append(
                EventProblem(
                    field: "properties.time", message: "'properties.time' is invalid: must not be in the future"))
        }
        if Placeholders.isPlaceholder(event.distinctId) {
            problems.append(
                EventProblem(
                    field: "properties.distinct_id",
                    message:
                        "'properties.distinct_id' is invalid: must not be a placeholder value (\(event.distinctId))"))
        }
        if !insertIdKnownValid && !InsertID.isValid(event.insertId) {
            problems.append(
                EventProblem(
                    field: "$insert_id",
                    message: "'$insert_id' is invalid: must only contain alphanumeric or hyphen '-' characters"))
        }
        // time, distinct_id, $insert_id and ip travel as properties too.
        let count = event.properties.count + 4
        if count >= maxProperties {
            problems.append(
                EventProblem(
                    field: "properties",
                    message: "'properties' is invalid: must have fewer than \(maxProperties) properties (has \(count))")
            )
        }
        // Counting characters walks the name; at most 255 bytes is at most 255 characters.
        for property in event.properties
        where property.name.utf8.count > maxPropertyNameLength && property.name.count > maxPropertyNameLength {
            problems.append(
                EventProblem(
                    field: "properties",
                    message: "'properties' is invalid: property name longer than \(maxPropertyNameLength) characters "
                        + "(\(property.name.prefix(32))...)"))
        }
        // Escapes at most sextuple a byte: most events are provably small without scanning them.
        if sizeBound(event) >= maxEventBytes, case let size = estimatedJSONBytes(event), size >= maxEventBytes {
            problems.append(
                EventProblem(
                    field: "properties", message: "'properties' is invalid: event is \(size) bytes, must be under 1 MB")
            )
        }
        return problems
    }

    /// The problem to report when a value read from the line is not valid UTF-8. Events hold
    /// Swift strings (always valid), so the rule engine checks bytes before building them.
    public static func invalidUTF8(field: String) -> EventProblem {
        let apiField =
            field == "event" || field == "properties.distinct_id" || field == "$insert_id"
            ? field : "properties"
        return EventProblem(field: apiField, message: "'\(field)' is invalid: string should be valid utf8")
    }

    /// An upper estimate of the event's JSON encoding, counting escapes.
    public static func estimatedJSONBytes(_ event: Event) -> Int {
        // {"event":"","properties":{"time":,"distinct_id":"","$insert_id":"","ip":""}}
        var total = 80 + 20
        total += jsonStringBytes(event.name) + jsonStringBytes(event.distinctId)
        total += jsonStringBytes(event.insertId) + jsonStringBytes(event.ip)
        for property in event.properties {
            total += jsonStringBytes(property.name) + 4
            switch property.value {
            case .string(let s): total += jsonStringBytes(s)
            case .int: total += 20
            case .float: total += 24
            case .bool: total += 5
            }
        }
        return total
    }

    /// An upper bound of `estimatedJSONBytes` from string lengths alone (O(1) per string).
    private static func sizeBound(_ event: Event) -> Int {
        var total = 100 + 8
        total +=
            6
            * (event.name.utf8.count + event.distinctId.utf8.count + event.insertId.utf8.count
                + event.ip.utf8.count)
        for property in event.properties {
            total += 6 * property.name.utf8.count + 6
            if case .string(let s) = property.value { total += 6 * s.utf8.count + 2 } else { total += 24 }
        }
        return total
    }

    private static func jsonStringBytes(_ s: String) -> Int {
        var n = 2
        for b in s.utf8 {
            switch b {
            case 0x22, 0x5c, 0x08, 0x0c, 0x0a, 0x0d, 0x09: n += 2
            case 0..<0x20: n += 6
            default: n += 1
            }
        }
        return n
    }

    private static func isBlank(_ s: String) -> Bool {
        // Fast path: an ASCII byte that is not whitespace settles it without Unicode tables.
        for b in s.utf8 where b < 0x80 {
            if b != 0x20 && !(0x09...0x0d).contains(b) { return false }
        }
        return s.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
    }
}
