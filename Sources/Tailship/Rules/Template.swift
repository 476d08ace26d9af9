/// Why a template could not be parsed, with the character offset of the problem.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(message) at offset \(offset)" }
}

/// A `{{field}}` template: literal text with field references, e.g. `"user {{ user.id }}"`.
///
/// Spaces inside the braces are ignored and names may be dotted (`user.id`, for nested JSON).
/// Alternatives are tried in order, `{{remote_user|remote_addr}}`, and a quoted last one is a
/// literal default, `{{plan|'free'}}`. A lone `{` or `}` is literal text; an unterminated `{{`
/// is an error.
public struct Template: Sendable, Equatable, CustomStringConvertible {
    /// One piece of a template.
    public enum Segment: Sendable, Equatable {
        case literal(String)
        case field(String)
        /// The first of `fields` the line has, else `fallback` (a quoted literal), else missing.
        case choice(fields: [String], fallback: String?)
    }

    /// The pieces in order; adjacent literals are merged.
    public let segments: [Segment]
    /// The template as written.
    public let text: String

    /// Parses `text`; throws on an unterminated `{{` or an empty `{{ }}`.
    public init(parsing text: String) throws(TemplateError) {
        self.text = text
        var segments: [Segment] = []
        var literal = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            if chars[i] == "{", i + 1 < chars.count, chars[i + 1] == "{" {
                let open = i
                var j = i + 2
                while j + 1 < chars.count, !(chars[j] == "}" && chars[j + 1] == "}") { j += 1 }
                guard j + 1 < chars.count else {
                    throw TemplateError(message: "unterminated '{{' in template", offset: open)
                }
                let segment = try Self.reference(String(chars[(i + 2)..<j]), offset: open)
                if !literal.isEmpty {
                    segments.append(.literal(literal))
                    literal = ""
                }
                segments.append(segment)
                i = j + 2
            } else {
                literal.append(chars[i])
                i += 1
            }
        }
        if !literal.isEmpty { segments.append(.literal(literal)) }
        self.segments = segments
    }

    /// What is between `{{` and `}}`: one field, or alternatives separated by `|`, the last of
    /// which may be a quoted default.
    private static func reference(_ text: String, offset: Int) throws(TemplateError) -> Segment {
        let parts = Self.alternatives(text).map(\.trimmingSpaces)
        var fields: [String] = []
        var fallback: String?
        for (index, part) in parts.enumerated() {
            if let quote = part.first, quote == "'" || quote == "\"", part.count >= 2, part.last == quote {
                guard index == parts.count - 1, index > 0 else {
                    throw TemplateError(
                        message: "a quoted default goes last, after a field ({{field|'default'}})", offset: offset)
                }
                fallback = String(part.dropFirst().dropLast())
                continue
            }
            guard !part.isEmpty, !part.contains(where: { "{}'\"".contains($0) }) else {
                throw TemplateError(message: "empty or malformed field name in template", offset: offset)
            }
            fields.append(part)
        }
        if fields.count == 1, fallback == nil { return .field(fields[0]) }
        return .choice(fields: fields, fallback: fallback)
    }

    /// `text` split at each `|` outside quotes (a quoted default may hold one: `{{a|'x|y'}}`).
    private static func alternatives(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var quote: Character?
        for char in text {
            if let open = quote {
                if char == open { quote = nil }
            } else if char == "'" || char == "\"" {
                quote = char
            } else if char == "|" {
                parts.append(current)
                current = ""
                continue
            }
            current.append(char)
        }
        parts.append(current)
        return parts
    }

    /// The field names the template refers to, in order of first use, without duplicates.
    public var referencedFields: [String] {
        var names: [String] = []
        for segment in segments {
            switch segment {
            case .field(let name) where !names.contains(name): names.append(name)
            case .choice(let fields, _): names += fields.filter { !names.contains($0) }
            default: break
            }
        }
        return names
    }

    /// The template's value when it refers to no field (a literal such as `web`), else nil.
    public var literalValue: String? {
        if segments.isEmpty { return "" }
        if segments.count == 1, case .literal(let s) = segments[0] { return s }
        return nil
    }

    /// Renders the template; nil when `lookup` has no value for a referenced field.
    public func render(_ lookup: (String) -> String?) -> String? {
        var out = ""
        for segment in segments {
            switch segment {
            case .literal(let s): out += s
            case .field(let name):
                guard let value = lookup(name) else { return nil }
                out += value
            case .choice(let fields, let fallback):
                guard let value = fields.lazy.compactMap(lookup).first ?? fallback else { return nil }
                out += value
            }
        }
        return out
    }

    public var description: String { text }
}

extension String {
    /// The string without leading and trailing ASCII spaces and tabs (no Foundation needed).
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
