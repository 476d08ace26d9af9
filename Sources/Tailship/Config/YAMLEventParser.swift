import CYAML

/// One libyaml parse event, copied out of C memory so nothing above this file sees a C type.
enum YAMLEvent: Sendable, Equatable {
    case streamStart
    case streamEnd
    case documentStart(SourceMark)
    case documentEnd
    case alias(String, SourceMark)
    case scalar(YAMLScalar, anchor: String?)
    case sequenceStart(SourceMark, anchor: String?)
    case sequenceEnd
    case mappingStart(SourceMark, anchor: String?)
    case mappingEnd
}

/// A syntax error as libyaml describes it, with a 1-based position.
struct YAMLSyntaxError: Error, Sendable, Equatable {
    var mark: SourceMark
    var message: String
}

/// Owns a libyaml `yaml_parser_t` and a private copy of the input, and hands out events one by
/// one through `yaml_parser_parse` (the event API; the document API would lose nothing we need
/// but cannot report duplicate keys or refuse extra documents the way we want).
///
/// Not thread-safe; use one per parse.
final class YAMLEventParser {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    /// libyaml keeps a pointer to the input, so the bytes must outlive the parser.
    private let input: UnsafeMutableBufferPointer<UInt8>
    private var finished = false

    /// Prepares a parser over `bytes` (UTF-8, or UTF-16 with a BOM, as libyaml detects).
    init(bytes: [UInt8]) {
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        parser = .allocate(capacity: 1)
        // yaml_parser_initialize only fails when malloc does; treat that like any allocation failure.
        precondition(yaml_parser_initialize(parser) == 1, "libyaml: cannot allocate a parser")
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    /// The next event; after `.streamEnd` or an error, keeps returning `.streamEnd`.
    func next() throws(YAMLSyntaxError) -> YAMLEvent {
        if finished { return .streamEnd }
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else {
            finished = true
            throw syntaxError()
        }
        defer { yaml_event_delete(&event) }
        let mark = SourceMark(libyaml: event.start_mark)
        switch event.type {
        case YAML_STREAM_START_EVENT:
            return .streamStart
        case YAML_STREAM_END_EVENT:
            finished = true
            return .streamEnd
        case YAML_DOCUMENT_START_EVENT:
            return .documentStart(mark)
        case YAML_DOCUMENT_END_EVENT:
            return .documentEnd
        case YAML_ALIAS_EVENT:
            return .alias(string(event.data.alias.anchor) ?? "", mark)
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let value =
                data.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: data.length), as: UTF8.self) }
                ?? ""
            // An explicit `!!str` tag makes a plain scalar a string, like quoting it.
            let isStrTag = string(data.tag) == "tag:yaml.org,2002:str"
            let style: YAMLScalarStyle = data.style == YAML_PLAIN_SCALAR_STYLE && !isStrTag ? .plain : .quoted
            return .scalar(YAMLScalar(value, style: style, mark: mark), anchor: string(data.anchor))
        case YAML_SEQUENCE_START_EVENT:
            return .sequenceStart(mark, anchor: string(event.data.sequence_start.anchor))
        case YAML_SEQUENCE_END_EVENT:
            return .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            return .mappingStart(mark, anchor: string(event.data.mapping_start.anchor))
        case YAML_MAPPING_END_EVENT:
            return .mappingEnd
        default:
            // YAML_NO_EVENT: libyaml never returns it from a successful parse.
            finished = true
            return .streamEnd
        }
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    /// Turns libyaml's error fields into a message with the problem, its context and position.
    private func syntaxError() -> YAMLSyntaxError {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "unknown error"
        switch p.error {
        case YAML_MEMORY_ERROR:
            return YAMLSyntaxError(mark: SourceMark(line: 1, column: 1), message: "YAML parser ran out of memory")
        case YAML_READER_ERROR:
            // Reader errors (bad encoding) carry a byte offset, not a line/column mark.
            let mark = markOfOffset(p.problem_offset)
            return YAMLSyntaxError(mark: mark, message: "invalid YAML: \(problem)")
        default:
            var message = "invalid YAML: \(problem)"
            if let context = p.context.map({ String(cString: $0) }) {
                message += " (\(context) at \(SourceMark(libyaml: p.context_mark)))"
            }
            return YAMLSyntaxError(mark: SourceMark(libyaml: p.problem_mark), message: message)
        }
    }

    private func markOfOffset(_ offset: Int) -> SourceMark {
        var line = 1
        var column = 1
        for byte in input.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return SourceMark(line: line, column: column)
    }
}

extension SourceMark {
    /// Converts libyaml's 0-based mark.
    init(libyaml mark: yaml_mark_t) {
        self.init(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }
}
