import Logging

/// How `StderrLogHandler` writes a record: logfmt (the default) or one JSON object per line.
public enum LogOutputFormat: String, Sendable, CaseIterable {
    case logfmt, json
}

extension StderrLogHandler {
    /// Keys of a JSON line's own; a metadata key equal to one is written as `metadata.<key>`.
    static let jsonReservedKeys: Set<String> = ["ts", "level", "name", "msg"]

    /// One record as a JSON object on one line, newline included:
    /// `{"ts":"…","level":"info","name":"agent.started","config":"/etc/tailship/agent.yaml",…}`.
    /// `name` is the record's `LogName`; `msg` holds the explanation after it, or the whole
    /// message when it does not start with one. Metadata keys follow in sorted order, their
    /// values as strings.
    static func jsonLine(level: Logger.Level, message: String, metadata: Logger.Metadata, timestamp: String) -> String {
        var fields: [(String, String)] = [("ts", timestamp), ("level", "\(level)")]
        let (name, detail) = split(message)
        if let name { fields.append(("name", name)) }
        if let detail { fields.append(("msg", detail)) }
        for key in metadata.keys.sorted() {
            fields.append((jsonReservedKeys.contains(key) ? "metadata." + key : key, "\(metadata[key]!)"))
        }
        return "{" + fields.map { "\(jsonString($0.0)):\(jsonString($0.1))" }.joined(separator: ",") + "}\n"
    }

    /// `agent.stopping: detail` → (`agent.stopping`, `detail`); a message that does not start
    /// with a known name is all detail.
    static func split(_ message: String) -> (name: String?, detail: String?) {
        if let range = message.firstRange(of: ": "), LogName(rawValue: String(message[..<range.lowerBound])) != nil {
            return (String(message[..<range.lowerBound]), String(message[range.upperBound...]))
        }
        if LogName(rawValue: message) != nil { return (message, nil) }
        return (nil, message)
    }

    /// A JSON string (RFC 8259). Beyond what JSON requires, DEL, the C1 controls and the line
    /// and paragraph separators are escaped too, so no record reaches a terminal as an escape
    /// sequence or splits for a reader that breaks lines on them.
    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                out += "\\u00" + hex2(scalar.value)
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func hex2(_ value: UInt32) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(value >> 4)], digits[Int(value & 0xF)]])
    }
}
