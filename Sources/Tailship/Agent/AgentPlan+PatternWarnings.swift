extension AgentPlan {
    /// `FILE:LINE:COLUMN: warning: …` for each rule whose pattern has several unbounded wildcards
    /// (`.*`, `.+`, lazy or not): on a line that almost matches, each multiplies the backtracking,
    /// and such a line costs the whole per-line budget and is dead-lettered (`match_limit`).
    /// Not an error: the pattern works on the lines it is meant for.
    public func patternWarnings() -> [String] {
        var warnings: [String] = []
        for source in config.sources {
            for rule in source.rules {
                for (what, pattern) in [("the pattern", rule.match)]
                    + rule.conditions.map({
                        ("the where pattern of '\($0.field.value)'", $0.pattern)
                    })
                {
                    guard let pattern else { continue }
                    let count = Self.unboundedWildcards(in: pattern.value)
                    guard count >= 2 else { continue }
                    warnings.append(warning(what, of: rule, at: pattern.mark, count: count))
                }
            }
        }
        return warnings
    }

    private func warning(_ what: String, of rule: RuleConfig, at mark: SourceMark, count: Int) -> String {
        "\(config.file):\(mark.line):\(mark.column): warning: \(what) of rule "
            + "'\(rule.name.value)' has \(count) unbounded wildcards ('.*' or '.+'): a line that almost "
            + "matches makes them backtrack against each other; such a line is dead-lettered "
            + "(match_limit) once it exceeds the per-line budget. Prefer classes that cannot overlap "
            + "what follows, such as '[^ ]*' or '\\S+'"
    }

    /// Occurrences of `.` repeated without bound (`*`, `+`, `{n,}`) outside character classes.
    static func unboundedWildcards(in pattern: String) -> Int {
        let chars = Array(pattern)
        var count = 0
        var index = 0
        var inClass = false
        while index < chars.count {
            let char = chars[index]
            if char == "\\" {
                // `\Q…\E` quotes everything up to `\E`.
                if index + 1 < chars.count, chars[index + 1] == "Q" {
                    index += 2
                    while index + 1 < chars.count, !(chars[index] == "\\" && chars[index + 1] == "E") { index += 1 }
                }
                index += 2
                continue
            }
            if inClass {
                if char == "[", index + 1 < chars.count, chars[index + 1] == ":",
                    let close = chars[(index + 2)...].firstIndex(of: "]")
                {
                    index = close + 1  // a POSIX class such as [:alpha:] inside the class
                    continue
                }
                if char == "]" { inClass = false }
            } else if char == "[" {
                inClass = true
                // A `]` right after `[` or `[^` is a literal member, not the end.
                if index + 1 < chars.count, chars[index + 1] == "^" { index += 1 }
                if index + 1 < chars.count, chars[index + 1] == "]" { index += 1 }
            } else if char == ".", index + 1 < chars.count {
                let next = chars[index + 1]
                if next == "*" || next == "+" {
                    count += 1
                } else if next == "{", let close = chars[(index + 1)...].firstIndex(of: "}"),
                    String(chars[(index + 2)..<close]).hasSuffix(",")
                {
                    count += 1
                }
            }
            index += 1
        }
        return count
    }
}
