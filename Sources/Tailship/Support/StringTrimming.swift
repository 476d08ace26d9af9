extension StringProtocol {
    /// Without leading and trailing white space: `trimmingCharacters(in: .whitespacesAndNewlines)`
    /// (or `.whitespaces`, with `newlines: false`), which FoundationEssentials lacks on Linux.
    func trimmingWhitespace(newlines: Bool = true) -> String {
        let blank: (Character) -> Bool = { $0.isWhitespace && (newlines || !$0.isNewline) }
        guard let first = firstIndex(where: { !blank($0) }), let last = lastIndex(where: { !blank($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
