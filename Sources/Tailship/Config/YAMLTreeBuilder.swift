/// What parsing a YAML text produced: the tree (nil for an empty document or after a fatal
/// error) and every problem found on the way.
struct YAMLParseResult: Sendable {
    var root: YAMLNode?
    var problems: [ConfigProblem]
    /// False when a syntax error (or another fatal problem) stopped the parse; the tree must then
    /// not be decoded, since anything after the error is missing.
    var isComplete: Bool
}

extension YAMLNode {
    /// Parses one YAML document into a tree; nil when the document is empty (only comments).
    ///
    /// Throws every problem found: a syntax error (libyaml's text and position), a second
    /// document, a duplicate mapping key (at the second occurrence), a non-scalar key, an alias
    /// to an unknown anchor, or nesting deeper than `YAMLTreeBuilder.maxDepth`.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> YAMLNode? {
        let result = YAMLTreeBuilder.build(bytes: Array(text.utf8), file: file)
        guard result.problems.isEmpty else { throw ConfigError(problems: result.problems) }
        return result.root
    }
}

/// Builds a `YAMLNode` tree from libyaml events with an explicit stack (no recursion, so a
/// hostile file cannot overflow the thread's stack).
struct YAMLTreeBuilder {
    /// A configuration never nests this deep; the limit keeps deinit and equality (which recurse
    /// through the tree) safe.
    static let maxDepth = 64
    /// Alias uses are resolved by copying (cheap: the tree is copy-on-write), but a "billion
    /// laughs" file could still make decoding walk a huge tree; a real configuration has a few.
    static let maxAliases = 1000

    private enum PendingKey {
        case none
        case key(YAMLScalar)
        /// The key was refused (duplicate or not a scalar): drop the value that follows.
        case skip
    }

    /// A collection being built.
    private struct Frame {
        var isMapping: Bool
        var mark: SourceMark
        var anchor: String?
        var items: [YAMLNode] = []
        var entries: [YAMLMappingEntry] = []
        var seen: [String: SourceMark] = [:]
        var pending: PendingKey = .none
    }

    private struct Fatal: Error {}

    private let file: String
    private var stack: [Frame] = []
    private var anchors: [String: YAMLNode] = [:]
    private var aliasCount = 0
    private var documentCount = 0
    private var root: YAMLNode?
    private var problems: [ConfigProblem] = []

    private init(file: String) {
        self.file = file
    }

    /// Parses `bytes` (the file's raw content) and returns the tree and its problems.
    static func build(bytes: [UInt8], file: String) -> YAMLParseResult {
        var builder = YAMLTreeBuilder(file: file)
        let parser = YAMLEventParser(bytes: bytes)
        do {
            try builder.run(parser)
            return YAMLParseResult(root: builder.root, problems: builder.problems, isComplete: true)
        } catch let error as YAMLSyntaxError {
            builder.problems.append(ConfigProblem(file: file, mark: error.mark, message: error.message))
        } catch {
            // Fatal: the problem was already recorded.
        }
        return YAMLParseResult(root: nil, problems: builder.problems, isComplete: false)
    }

    private mutating func run(_ parser: YAMLEventParser) throws {
        while true {
            switch try parser.next() {
            case .streamStart, .documentEnd:
                continue
            case .streamEnd:
                return
            case .documentStart(let mark):
                documentCount += 1
                if documentCount > 1 {
                    try fatal(at: mark, "a configuration file holds one YAML document; remove the second one")
                }
            case .scalar(let scalar, let anchor):
                complete(.scalar(scalar), anchor: anchor)
            case .alias(let name, let mark):
                aliasCount += 1
                guard aliasCount <= Self.maxAliases else {
                    try fatal(at: mark, "too many aliases (more than \(Self.maxAliases))")
                }
                guard let node = anchors[name] else {
                    try fatal(at: mark, "unknown alias '*\(name)'; define '&\(name)' before using it")
                }
                complete(node, anchor: nil)
            case .sequenceStart(let mark, let anchor):
                try push(Frame(isMapping: false, mark: mark, anchor: anchor))
            case .mappingStart(let mark, let anchor):
                try push(Frame(isMapping: true, mark: mark, anchor: anchor))
            case .sequenceEnd, .mappingEnd:
                guard let frame = stack.popLast() else { continue }
                let node: YAMLNode =
                    frame.isMapping
                    ? .mapping(frame.entries, mark: frame.mark) : .sequence(frame.items, mark: frame.mark)
                complete(node, anchor: frame.anchor)
            }
        }
    }

    private mutating func push(_ frame: Frame) throws {
        guard stack.count < Self.maxDepth else {
            try fatal(at: frame.mark, "nesting deeper than \(Self.maxDepth) levels")
        }
        stack.append(frame)
    }

    /// Attaches a finished node to its parent (or makes it the root).
    private mutating func complete(_ node: YAMLNode, anchor: String?) {
        if let anchor { anchors[anchor] = node }
        guard var top = stack.popLast() else {
            root = node
            return
        }
        if !top.isMapping {
            top.items.append(node)
        } else {
            switch top.pending {
            case .none:
                top.pending = acceptKey(node, seen: &top.seen)
            case .key(let key):
                top.entries.append(YAMLMappingEntry(key: key, value: node))
                top.pending = .none
            case .skip:
                top.pending = .none
            }
        }
        stack.append(top)
    }

    private mutating func acceptKey(_ node: YAMLNode, seen: inout [String: SourceMark]) -> PendingKey {
        guard case .scalar(let key) = node else {
            problems.append(ConfigProblem(file: file, mark: node.mark, message: "a mapping key must be a plain string"))
            return .skip
        }
        if let first = seen[key.value] {
            problems.append(
                ConfigProblem(file: file, mark: key.mark, message: "duplicate key '\(key.value)' (first at \(first))"))
            return .skip
        }
        seen[key.value] = key.mark
        return .key(key)
    }

    private mutating func fatal(at mark: SourceMark, _ message: String) throws -> Never {
        problems.append(ConfigProblem(file: file, mark: mark, message: message))
        throw Fatal()
    }
}
