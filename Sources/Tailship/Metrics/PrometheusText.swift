#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The Prometheus text exposition format, version 0.0.4: one `# HELP` and `# TYPE` line per
/// family, then its samples, `name{label="value",...} value`.
public struct MetricFamily: Sendable {
    public enum Kind: String, Sendable {
        case counter, gauge
    }

    public struct Sample: Sendable {
        public var labels: [(String, String)]
        public var value: Double

        public init(_ labels: [(String, String)] = [], _ value: Double) {
            self.labels = labels
            self.value = value
        }
    }

    public var name: String
    public var help: String
    public var kind: Kind
    public var samples: [Sample]

    public init(_ name: String, _ kind: Kind, _ help: String, _ samples: [Sample]) {
        self.name = name
        self.kind = kind
        self.help = help
        self.samples = samples
    }
}

public enum PrometheusText {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The families as an exposition body. A family without samples still gets its HELP and
    /// TYPE lines (so a scraper learns the name before the first event).
    public static func render(_ families: [MetricFamily]) -> String {
        var out = ""
        for family in families {
            out += "# HELP \(family.name) \(escapeHelp(family.help))\n"
            out += "# TYPE \(family.name) \(family.kind.rawValue)\n"
            for sample in family.samples {
                out += family.name
                if !sample.labels.isEmpty {
                    out += "{"
                    out += sample.labels.map { "\($0.0)=\"\(escapeLabelValue($0.1))\"" }.joined(separator: ",")
                    out += "}"
                }
                out += " \(number(sample.value))\n"
            }
        }
        return out
    }

    /// Label values: backslash, double quote and line feed are escaped (`\\`, `\"`, `\n`), the
    /// only escapes the format has (Prometheus refuses any other); everything else goes as it is.
    public static func escapeLabelValue(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// HELP text: backslash and line feed are escaped.
    public static func escapeHelp(_ text: String) -> String {
        text.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
    }

    /// Integers without a decimal point; other values as Swift prints them; NaN and the
    /// infinities as the format spells them.
    public static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 9e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
