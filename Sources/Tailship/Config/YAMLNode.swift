/// How a scalar was written. Only plain scalars are interpreted (`true`, `42`, `null`);
/// a quoted or block scalar is always a string, as YAML itself says.
public enum YAMLScalarStyle: Sendable, Hashable {
    case plain
    case quoted
}

/// A scalar with its text and where it starts in the file.
public struct YAMLScalar: Sendable, Hashable {
    public var value: String
    public var style: YAMLScalarStyle
    public var mark: SourceMark

    public init(_ value: String, style: YAMLScalarStyle = .plain, mark: SourceMark) {
        self.value = value
        self.style = style
        self.mark = mark
    }

    /// True for a plain empty, `~` or `null` scalar (what `key:` with no value yields).
    public var isNull: Bool {
        guard style == .plain else { return false }
        switch value {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }
}

/// One `key: value` pair of a mapping; keys are always scalars (others are refused when parsing).
public struct YAMLMappingEntry: Sendable, Hashable {
    public var key: YAMLScalar
    public var value: YAMLNode

    public init(key: YAMLScalar, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// A parsed YAML document as a tree with 1-based positions on every node, so the configuration
/// decoder can point each problem at the key or value that causes it.
///
/// Aliases are resolved to a copy of the anchored node (its marks are the anchor's), and mapping
/// keys are unique: the parser reports a duplicate and keeps the first occurrence.
public indirect enum YAMLNode: Sendable, Hashable {
    case scalar(YAMLScalar)
    case sequence([YAMLNode], mark: SourceMark)
    case mapping([YAMLMappingEntry], mark: SourceMark)

    /// Where the node starts: the scalar itself, or the first item or key of a block collection.
    public var mark: SourceMark {
        switch self {
        case .scalar(let scalar): return scalar.mark
        case .sequence(_, let mark), .mapping(_, let mark): return mark
        }
    }

    /// True for a null scalar (`key:` with nothing after it, `~`, `null`).
    public var isNull: Bool {
        if case .scalar(let scalar) = self { return scalar.isNull }
        return false
    }

    /// The scalar payload, or nil for a collection.
    public var scalar: YAMLScalar? {
        if case .scalar(let scalar) = self { return scalar }
        return nil
    }

    /// The value stored under `key` in a mapping, or nil when absent or not a mapping.
    public subscript(key: String) -> YAMLNode? {
        guard case .mapping(let entries, _) = self else { return nil }
        return entries.first { $0.key.value == key }?.value
    }

    /// A short name of the node's kind for messages ("a mapping", "a list", "a string").
    var kindDescription: String {
        switch self {
        case .scalar(let scalar): return scalar.isNull ? "an empty value" : "a string"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }
}
