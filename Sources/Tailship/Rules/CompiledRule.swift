/// A template whose field names were resolved to slots at compile time. A class: the engine
/// reads it for every line, and a reference costs one retain where a struct copy costs several.
final class CompiledTemplate {
    enum Piece {
        case literal(String)
        case slot(Int)
        /// The first of the slots with a value, else the fallback (`{{a|b|'x'}}`).
        case choice([Int], fallback: String?)
    }

    let template: Template
    let pieces: [Piece]
    /// Set when the template names no field: rendering returns it without work.
    let constant: String?
    /// Set when the template is exactly one field (`{{user}}`): rendering is one byte copy.
    let singleSlot: Int?
    /// `constant`'s bytes, and each literal piece's (nil for the other pieces), for `encode`.
    let constantBytes: [UInt8]?
    let pieceBytes: [[UInt8]?]

    init(_ template: Template, table: FieldTable) {
        self.template = template
        pieces = template.segments.map {
            switch $0 {
            case .literal(let s): return .literal(s)
            case .field(let name): return .slot(table.add(name))
            case .choice(let fields, let fallback): return .choice(fields.map { table.add($0) }, fallback: fallback)
            }
        }
        constant = template.literalValue
        if pieces.count == 1, case .slot(let s) = pieces[0] { singleSlot = s } else { singleSlot = nil }
        constantBytes = constant.map { Array($0.utf8) }
        pieceBytes = pieces.map {
            switch $0 {
            case .literal(let s): return Array(s.utf8)
            case .choice(_, let fallback?): return Array(fallback.utf8)
            default: return nil
            }
        }
    }
}

/// One `where:` condition, compiled.
struct CompiledCondition {
    let field: String
    let slot: Int
    let pattern: Pattern
}

/// One property, compiled.
struct CompiledProperty {
    let name: String
    let template: CompiledTemplate
    let type: PropertyType
    /// `,"<name>":` as the encoder writes it, for encoding straight from the line.
    let key: [UInt8]

    init(name: String, template: CompiledTemplate, type: PropertyType) {
        self.name = name
        self.template = template
        self.type = type
        var key: [UInt8] = [UInt8(ascii: ",")]
        JSONWriter.appendString(name, to: &key)
        key.append(UInt8(ascii: ":"))
        self.key = key
    }
}

/// A rule ready to run: its pattern, the capture group of each field slot, and compiled
/// templates. Owned by one `RuleEngine` (patterns are not thread-safe). A class so trying a
/// rule per line passes one reference instead of copying a dozen fields.
final class CompiledRule {
    let name: String
    let pattern: Pattern?
    /// For each field slot, the capture group of `pattern` that provides it, or -1.
    let groupForSlot: [Int]
    let conditions: [CompiledCondition]
    let event: CompiledTemplate?
    let distinctId: CompiledTemplate?
    let time: (template: CompiledTemplate, parser: TimeParser)?
    let insertId: CompiledTemplate?
    let ip: CompiledTemplate?
    let properties: [CompiledProperty]
    let drop: Bool

    init(
        name: String, pattern: Pattern?, groupForSlot: [Int], conditions: [CompiledCondition],
        event: CompiledTemplate?, distinctId: CompiledTemplate?,
        time: (template: CompiledTemplate, parser: TimeParser)?, insertId: CompiledTemplate?,
        ip: CompiledTemplate?, properties: [CompiledProperty], drop: Bool
    ) {
        self.name = name
        self.pattern = pattern
        self.groupForSlot = groupForSlot
        self.conditions = conditions
        self.event = event
        self.distinctId = distinctId
        self.time = time
        self.insertId = insertId
        self.ip = ip
        self.properties = properties
        self.drop = drop
    }
}
