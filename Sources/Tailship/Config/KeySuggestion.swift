/// Finds the known key a misspelled one was probably meant to be, for "did you mean" hints.
enum KeySuggestion {
    /// The closest of `candidates` to `key` within an edit distance of 2 (1 for keys of up to
    /// three characters, where 2 edits would suggest almost anything); nil when none is close.
    static func closest(to key: String, in candidates: [String]) -> String? {
        let lowered = Array(key.lowercased().unicodeScalars)
        let limit = lowered.count <= 3 ? 1 : 2
        var best: (key: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, Array(candidate.unicodeScalars))
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.key
    }

    /// Levenshtein distance (insertions, deletions, substitutions), two rows at a time.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
