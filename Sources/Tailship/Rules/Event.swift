/// A typed property value, as it will be written into the event JSON.
public enum PropertyValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case float(Double)
    case bool(Bool)
}

/// One property of an event, in the order the rule lists it.
public struct EventProperty: Sendable, Equatable {
    public var name: String
    public var value: PropertyValue

    public init(name: String, value: PropertyValue) {
        self.name = name
        self.value = value
    }
}

/// A product event produced by a rule from one log line.
///
/// `time` is integer milliseconds since the epoch; `ip` defaults to "0" so Mixpanel does not
/// geolocate every event to the agent's own host (Mixpanel's Ingestion API docs).
public struct Event: Sendable, Equatable {
    public var name: String
    public var distinctId: String
    public var timeMs: Int64
    public var insertId: String
    public var ip: String
    public var properties: [EventProperty]

    public init(
        name: String, distinctId: String, timeMs: Int64, insertId: String, ip: String = "0",
        properties: [EventProperty] = []
    ) {
        self.name = name
        self.distinctId = distinctId
        self.timeMs = timeMs
        self.insertId = insertId
        self.ip = ip
        self.properties = properties
    }
}
