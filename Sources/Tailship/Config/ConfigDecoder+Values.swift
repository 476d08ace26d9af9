/// Typed readers for single values. Each reports a wrong value at the value's own position and
/// returns nil, so the caller keeps its default and carries on.
extension ConfigDecoder {
    /// Any scalar as text (a plain `3141592` is the string "3141592").
    mutating func string(_ node: YAMLNode, key: String) -> Located<String>? {
        guard let scalar = node.scalar, !scalar.isNull else {
            report(node.mark, "expected a string for '\(key)', got \(describe(node))")
            return nil
        }
        return Located(scalar.value, at: scalar.mark)
    }

    /// A scalar that is not the empty string.
    mutating func nonEmptyString(_ node: YAMLNode, key: String) -> Located<String>? {
        guard let value = string(node, key: key) else { return nil }
        guard !value.value.isEmpty else {
            report(value.mark, "'\(key)' must not be empty")
            return nil
        }
        return value
    }

    /// A plain `true` or `false` (any case); `yes`, `on` and quoted text are refused, as in YAML 1.2.
    mutating func bool(_ node: YAMLNode, key: String) -> Bool? {
        if let scalar = node.scalar, scalar.style == .plain {
            switch scalar.value.lowercased() {
            case "true": return true
            case "false": return false
            default: break
            }
        }
        report(
            node.mark,
            "expected true or false for '\(key)', got \(describe(node))\(unquoteHint(node) { ["true", "false"].contains($0.lowercased()) })"
        )
        return nil
    }

    /// For a quoted scalar whose text would be valid unquoted (`"4"` where a number goes):
    /// the quotes are the problem, so the message says so.
    func unquoteHint(_ node: YAMLNode, validUnquoted: (String) -> Bool) -> String {
        guard let scalar = node.scalar, scalar.style != .plain, validUnquoted(scalar.value) else { return "" }
        return " (quoted, so it is text: write it without quotes)"
    }

    /// A plain decimal integer within `range`.
    mutating func integer(_ node: YAMLNode, key: String, range: ClosedRange<Int>) -> Int? {
        guard let scalar = node.scalar, scalar.style == .plain, let value = Int(scalar.value) else {
            report(
                node.mark,
                "expected an integer for '\(key)', got \(describe(node))\(unquoteHint(node) { Int($0) != nil })")
            return nil
        }
        return checked(value, shown: scalar.value, key: key, range: range, at: scalar.mark)
    }

    /// A duration (`500ms`, `30s`, `5m`) in milliseconds, greater than zero.
    mutating func duration(_ node: YAMLNode, key: String) -> Located<Int>? {
        guard let scalar = node.scalar, !scalar.isNull, let value = ConfigUnits.milliseconds(from: scalar.value) else {
            report(node.mark, "invalid duration \(describe(node)) for '\(key)'; \(ConfigUnits.durationHelp)")
            return nil
        }
        guard value > 0 else {
            report(scalar.mark, "'\(key)' must be greater than 0, got '\(scalar.value)'")
            return nil
        }
        return Located(value, at: scalar.mark)
    }

    /// A duration within `range` (milliseconds); out of it, the problem names `bounds`
    /// (`100ms and 1h`).
    mutating func duration(_ node: YAMLNode, key: String, range: ClosedRange<Int>, bounds: String) -> Int? {
        guard let value = duration(node, key: key) else { return nil }
        guard range.contains(value.value) else {
            report(value.mark, "'\(key)' must be between \(bounds), got '\(node.scalar?.value ?? "")'")
            return nil
        }
        return value.value
    }

    /// A size (`1MiB`, `512KiB`, `2MB`, or plain bytes) within `range`.
    mutating func size(_ node: YAMLNode, key: String, range: ClosedRange<Int>) -> Int? {
        guard let scalar = node.scalar, !scalar.isNull, let value = ConfigUnits.bytes(from: scalar.value) else {
            report(node.mark, "invalid size \(describe(node)) for '\(key)'; \(ConfigUnits.sizeHelp)")
            return nil
        }
        return checked(value, shown: scalar.value, key: key, range: range, at: scalar.mark)
    }

    /// One of an enum's raw values, listing them all when the value is not one.
    mutating func enumeration<E: RawRepresentable & CaseIterable>(_ node: YAMLNode, key: String, as type: E.Type) -> E?
    where E.RawValue == String {
        if let scalar = node.scalar, let value = E(rawValue: scalar.value) { return value }
        let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
        report(node.mark, "invalid value \(describe(node)) for '\(key)'; expected one of: \(allowed)")
        return nil
    }

    /// A list of non-empty strings; a single string stands for a list of one.
    mutating func stringList(_ node: YAMLNode, key: String) -> [Located<String>]? {
        let items: [YAMLNode]
        switch node {
        case .scalar: items = [node]
        case .sequence(let list, _): items = list
        case .mapping:
            report(node.mark, "expected a list of strings for '\(key)', got a mapping")
            return nil
        }
        var result: [Located<String>] = []
        var valid = true
        for item in items {
            guard let scalar = item.scalar, !scalar.isNull else {
                report(item.mark, "expected a list of strings for '\(key)', got \(describe(item)) in it")
                valid = false
                continue
            }
            guard !scalar.value.isEmpty else {
                report(item.mark, "'\(key)' must not contain an empty string")
                valid = false
                continue
            }
            result.append(Located(scalar.value, at: scalar.mark))
        }
        return valid ? result : nil
    }

    /// The entries of a mapping whose keys are free-form (`where`, `properties`).
    mutating func entries(_ node: YAMLNode, key: String) -> [YAMLMappingEntry]? {
        guard case .mapping(let entries, _) = node else {
            report(node.mark, "expected a mapping for '\(key)', got \(describe(node))")
            return nil
        }
        return entries
    }

    private mutating func checked(
        _ value: Int, shown: String, key: String, range: ClosedRange<Int>, at mark: SourceMark
    ) -> Int? {
        guard range.contains(value) else {
            let bounds =
                range.upperBound == Int.max
                ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
            report(mark, "'\(key)' must be \(bounds), got '\(shown)'")
            return nil
        }
        return value
    }
}
