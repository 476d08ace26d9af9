extension AgentPlan {
    /// `FILE:LINE:COLUMN: warning: …` for each rule whose pattern has several unbounded wildcards
    /// (`.*`, `.+`, lazy or not): on a line that almost matches, each multiplies the backtracking,
    /// and such a line costs the whole per-line budget and is dead-lettered (`match_limit`).
    /// Not an error: the pattern works on the lines it is meant for.
    public func patternWarnings() -> [String] {
        var warnings: [String] = []
        for source in config.sources {
            for rule in source.rules {
                guard let match = rule.match else { continue }
                let count = Self.unboundedWildcards(in: match.value)
                guard count >= 2 else { continue }
                warnings.append(
                    "\(config.file):\(match.mark.line):\(match.mark.column): warning: the pattern of rule "
                        + "'\(rule.name.value)' has \(count) unbounded wildcards ('.*' or '.+'): a line that almost "
                        + "matches makes them backtrack against each other; such a line is dead-lettered "
                        + "(match_limit) once it exceeds the per-line budget. Prefer classes that cannot overlap "
                        + "what follows, such as '[^ ]*' or '\\S+'")
            }
        }
        return warnings
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
                index += 2
                continue
            }
            if inClass {
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
