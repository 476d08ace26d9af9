import Foundation

/// A strict reader of the Prometheus text format 0.0.4, for checking what `/metrics` serves:
/// every line is a HELP, a TYPE or a sample; names and label names are valid; label values use
/// only the three escapes; each family is declared (HELP then TYPE, once) before its samples,
/// its samples are contiguous, no sample repeats, counters end in `_total`, and the body ends
/// with a newline.
struct PrometheusTextParser {
    struct Sample: Hashable {
        var name: String
        var labels: [String: String]
    }

    struct Failure: Error, CustomStringConvertible {
        var line: Int
        var text: String
        var problem: String
        var description: String { "line \(line): \(problem): \(text)" }
    }

    private(set) var types: [String: String] = [:]
    private(set) var values: [Sample: Double] = [:]

    init(_ body: String) throws {
        guard body.isEmpty || body.hasSuffix("\n") else {
            throw Failure(line: 0, text: "", problem: "no final newline")
        }
        var helped: Set<String> = []
        var finished: Set<String> = []
        var current: String?
        for (index, line) in body.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            let number = index + 1
            func fail(_ problem: String) -> Failure { Failure(line: number, text: String(line), problem: problem) }
            if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst(7)
                let name = String(rest.prefix { $0 != " " })
                guard Self.isMetricName(name), rest.count > name.count, !helped.contains(name) else {
                    throw fail("bad or repeated HELP")
                }
                let help = rest.dropFirst(name.count + 1)
                guard Self.validEscapes(help, allowed: ["\\", "n"]) else { throw fail("bad escape in HELP") }
                helped.insert(name)
                if let current, current != name { finished.insert(current) }
                current = name
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2, current == String(parts[0]), types[String(parts[0])] == nil,
                    ["counter", "gauge"].contains(String(parts[1]))
                else { throw fail("TYPE not after its HELP, repeated, or of an unexpected type") }
                if parts[1] == "counter" && !parts[0].hasSuffix("_total") { throw fail("counter without _total") }
                types[String(parts[0])] = String(parts[1])
            } else if line.hasPrefix("#") || line.isEmpty {
                throw fail("unexpected comment or empty line")
            } else {
                let sample = try Self.sample(line, fail: fail)
                guard sample.0.name == current, types[sample.0.name] != nil, !finished.contains(sample.0.name) else {
                    throw fail("sample outside its family")
                }
                guard values[sample.0] == nil else { throw fail("repeated sample") }
                values[sample.0] = sample.1
            }
        }
    }

    /// The value of `name` with exactly `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        values[Sample(name: name, labels: labels)]
    }

    /// The sum over every sample of `name`.
    func sum(_ name: String) -> Double {
        values.filter { $0.key.name == name }.reduce(0) { $0 + $1.value }
    }

    func samples(_ name: String) -> [Sample: Double] { values.filter { $0.key.name == name } }

    private static func sample(_ line: Substring, fail: (String) -> Failure) throws -> (Sample, Double) {
        let name = String(line.prefix { $0 != "{" && $0 != " " })
        guard isMetricName(name) else { throw fail("bad metric name") }
        var rest = line.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = String(rest.prefix { $0 != "=" })
                guard isLabelName(label), labels[label] == nil else { throw fail("bad or repeated label name") }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { throw fail("label without =\"") }
                rest = rest.dropFirst(2)
                var value = ""
                while true {
                    guard let c = rest.first else { throw fail("unterminated label value") }
                    rest = rest.dropFirst()
                    if c == "\"" { break }
                    if c == "\n" { throw fail("raw newline in a label value") }
                    if c == "\\" {
                        guard let e = rest.first else { throw fail("dangling backslash") }
                        rest = rest.dropFirst()
                        switch e {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: throw fail("bad escape \\\(e)")
                        }
                    } else {
                        value.append(c)
                    }
                }
                labels[label] = value
                if rest.first == "," {
                    rest = rest.dropFirst()
                } else if rest.first != "}" {
                    throw fail("bad label list")
                }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { throw fail("no space before the value") }
        let text = String(rest.dropFirst())
        let value: Double
        switch text {
        case "NaN": value = .nan
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        default:
            guard let parsed = Double(text), !text.contains(" ") else { throw fail("bad value (or a timestamp)") }
            value = parsed
        }
        return (Sample(name: name, labels: labels), value)
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCIILetter || first == "_" || first == ":" else {
            return false
        }
        return name.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" || $0 == ":" }
    }

    static func isLabelName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCIILetter || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" }
    }

    private static func validEscapes(_ text: Substring, allowed: Set<Character>) -> Bool {
        var escaped = false
        for c in text {
            if escaped {
                guard allowed.contains(c) else { return false }
                escaped = false
            } else if c == "\\" {
                escaped = true
            }
        }
        return !escaped
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
