import Testing

@testable import Tailship

@Suite struct RulesEventValidatorTests {
    static let now: Int64 = 1_795_842_000_000
    /// 1971-01-01T00:00:00Z: the API's earliest accepted time (docs/rules.md).
    static let earliest: Int64 = 31_536_000_000

    func event(
        name: String = "Purchase", distinctId: String = "u1", time: Int64 = now - 1000,
        insertId: String = "abc-123", properties: [EventProperty] = []
    ) -> Event {
        Event(name: name, distinctId: distinctId, timeMs: time, insertId: insertId, properties: properties)
    }

    @Test func aGoodEventHasNoProblems() {
        #expect(EventValidator.validate(event(), nowMs: Self.now).isEmpty)
        #expect(EventValidator.validate(event(distinctId: ""), nowMs: Self.now).isEmpty)  // empty is allowed
        #expect(EventValidator.validate(event(time: Self.now + 3_600_000), nowMs: Self.now).isEmpty)
        #expect(EventValidator.validate(event(time: Self.earliest), nowMs: Self.now).isEmpty)
    }

    @Test(arguments: ["", "   ", "\t\n"])
    func blankEventNames(name: String) {
        #expect(
            EventValidator.validate(event(name: name), nowMs: Self.now)
                == [EventProblem(field: "event", message: "'event' must not be missing or blank")])
    }

    @Test func timeWindow() {
        #expect(
            EventValidator.validate(event(time: Self.now + 3_600_001), nowMs: Self.now)
                == [
                    EventProblem(
                        field: "properties.time", message: "'properties.time' is invalid: must not be in the future")
                ])
        #expect(
            EventValidator.validate(event(time: Self.earliest - 1), nowMs: Self.now)
                == [
                    EventProblem(
                        field: "properties.time",
                        message: "'properties.time' is invalid: must not be before 1971-01-01")
                ])
        #expect(EventValidator.validate(event(time: 0), nowMs: Self.now).map(\.field) == ["properties.time"])
    }

    @Test(arguments: [
        "null", "NULL", "Anonymous", "undefined", "0", "-1", "[]", "{}", "<nil>", "n/a",
        "00000000-0000-0000-0000-000000000000", "FALSE",
    ])
    func placeholderDistinctIds(id: String) {
        #expect(
            EventValidator.validate(event(distinctId: id), nowMs: Self.now).map(\.field) == ["properties.distinct_id"])
    }

    @Test(arguments: ["", "a:b", String(repeating: "x", count: 37), "none"])
    func badInsertIds(id: String) {
        #expect(
            EventValidator.validate(event(insertId: id), nowMs: Self.now) == [
                EventProblem(
                    field: "$insert_id",
                    message: "'$insert_id' is invalid: must only contain alphanumeric or hyphen '-' characters")
            ])
    }

    @Test func propertyCountNamesAndSize() {
        let many = (0..<251).map { EventProperty(name: "p\($0)", value: .int(1)) }
        #expect(EventValidator.validate(event(properties: many), nowMs: Self.now).map(\.field) == ["properties"])
        #expect(EventValidator.validate(event(properties: Array(many.prefix(250))), nowMs: Self.now).isEmpty)
        let longName = [EventProperty(name: String(repeating: "n", count: 256), value: .bool(true))]
        #expect(EventValidator.validate(event(properties: longName), nowMs: Self.now).map(\.field) == ["properties"])
        let big = [EventProperty(name: "blob", value: .string(String(repeating: "z", count: 1_000_000)))]
        #expect(EventValidator.validate(event(properties: big), nowMs: Self.now).map(\.field) == ["properties"])
    }

    @Test func jsonSizeEstimateCountsEscapes() {
        let plain = EventValidator.estimatedJSONBytes(
            event(properties: [EventProperty(name: "a", value: .string("xx"))]))
        let escaped = EventValidator.estimatedJSONBytes(
            event(properties: [EventProperty(name: "a", value: .string("\"\u{1}"))]))
        #expect(escaped == plain + 6)
    }
}
