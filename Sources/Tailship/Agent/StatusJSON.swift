#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A JSON value for `tailship status --json`, written with `JSONEncoder` (sorted keys, pretty,
/// slashes unescaped). `JSONSerialization` would do it from `[String: Any]`, but it is not
/// part of FoundationEssentials. Absent values are written as `null`, never left out.
enum StatusJSON: Encodable, ExpressibleByDictionaryLiteral, ExpressibleByStringLiteral {
    case null
    case flag(Bool)
    case number(Int64)
    case text(String)
    case list([StatusJSON])
    case map([String: StatusJSON])

    init(dictionaryLiteral elements: (String, StatusJSON)...) {
        self = .map(Dictionary(elements) { _, last in last })
    }

    init(stringLiteral value: String) { self = .text(value) }

    static func int<T: BinaryInteger>(_ value: T?) -> StatusJSON {
        value.map { .number(Int64(clamping: $0)) } ?? .null
    }

    static func string(_ value: String?) -> StatusJSON { value.map { .text($0) } ?? .null }

    static func bool(_ value: Bool) -> StatusJSON { .flag(value) }

    static func array(_ values: [StatusJSON]) -> StatusJSON { .list(values) }

    static func object(_ values: [String: StatusJSON]) -> StatusJSON { .map(values) }

    private struct Name: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .map(let values):
            var container = encoder.container(keyedBy: Name.self)
            for (key, value) in values { try container.encode(value, forKey: Name(stringValue: key)) }
        case .list(let values):
            var container = encoder.unkeyedContainer()
            for value in values { try container.encode(value) }
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .flag(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .number(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .text(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        }
    }

    /// Pretty-printed with sorted keys; `{}` should encoding ever fail.
    func rendered() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
