import CPCRE2

/// Why a pattern did not compile: PCRE2's own message and the byte offset in the pattern.
public struct PatternError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// Byte offset in the pattern where PCRE2 gave up.
    public var offset: Int

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    /// `invalid pattern: <pcre2 message> at offset N`, the form `tailship check` prints.
    public var description: String { "invalid pattern: \(message) at offset \(offset)" }
}

/// What one match attempt produced.
public enum MatchResult: Sendable, Equatable {
    /// The pattern matched; capture ranges are readable until the next `match` call.
    case matched
    case noMatch
    /// The match, depth, heap or JIT stack limit stopped the attempt: the line counts as
    /// unmatched, but callers report it separately so a pathological pattern is visible.
    case limitHit
}

/// A compiled PCRE2 (8-bit) pattern that matches raw bytes.
///
/// Patterns are compiled without `PCRE2_UTF`: log lines are bytes that may not be valid UTF-8,
/// and byte mode never fails on them (`.` is one byte, `\d \s \w` are ASCII). A pattern that
/// opts in with a leading `(*UTF)` is recompiled with `PCRE2_MATCH_INVALID_UTF`, so invalid
/// sequences in a line simply cannot match instead of making every match an error.
///
/// The JIT is used when available (falling back to the interpreter), and every match runs
/// under a match context with match, depth and heap limits so no pattern can hang the agent.
///
/// Not thread-safe: the match data (capture vector) lives in the pattern. Each reading thread
/// owns its own `RuleEngine`, hence its own patterns.
public final class Pattern {
    /// Default cap on PCRE2's internal match() calls per line, whatever its length (see
    /// `budget(lineBytes:)`, which is lower for all but the longest lines).
    public static let defaultMatchLimit: UInt32 = 1_000_000
    /// The per-line budget: `budgetBase + budgetPerByte` × the line's length, in match() calls.
    /// Measured (docs/security.md, "Patterns"): every rule of the docs and the suite needs at most
    /// 13 calls on a short line and 2 per byte on a long near-miss (`user=\S+.*action=`, 8 KB:
    /// 16,002), so the budget leaves 8 times that; a crafted line that makes a pattern with several
    /// `.*` backtrack stops at it, about 11 ns per call: 0.75 ms for 4 KB, where 1,000,000 calls
    /// cost 11 ms whatever the length.
    public static let budgetBase = 4_096
    public static let budgetPerByte = 16
    /// Default cap on backtracking depth (interpreter only; the JIT has its own stack cap).
    public static let defaultDepthLimit: UInt32 = 10_000
    /// Default cap on the interpreter's backtracking heap, in KiB.
    public static let defaultHeapLimitKiB: UInt32 = 20 * 1024

    /// The pattern as written.
    public let source: String
    /// Number of capture groups (group 0, the whole match, not counted).
    public let captureCount: Int
    /// Named groups in pattern order, with their group numbers.
    public let namedGroups: [(name: String, index: Int)]
    /// Whether the JIT compiled this pattern.
    public let isJIT: Bool

    private let matchLimit: UInt32
    private let budgeted: Bool
    private let code: OpaquePointer
    private let matchData: OpaquePointer
    private let context: OpaquePointer
    private let ovector: UnsafeMutablePointer<Int>

    /// Compiles `source`; throws PCRE2's message and offset when it is not a valid pattern.
    /// Without `budgeted`, only `matchLimit` bounds a match (to measure what a pattern needs).
    public init(
        _ source: String, matchLimit: UInt32 = Pattern.defaultMatchLimit,
        depthLimit: UInt32 = Pattern.defaultDepthLimit, heapLimitKiB: UInt32 = Pattern.defaultHeapLimitKiB,
        budgeted: Bool = true
    ) throws(PatternError) {
        self.source = source
        self.matchLimit = matchLimit
        self.budgeted = budgeted
        var code = try Pattern.compile(source, options: 0)
        var all: UInt32 = 0
        _ = tailship_pcre2_pattern_info(code, UInt32(PCRE2_INFO_ALLOPTIONS), &all)
        if all & PCRE2_UTF != 0 {
            // The pattern asked for UTF: let invalid UTF-8 in a line fail to match, not error.
            tailship_pcre2_code_free(code)
            code = try Pattern.compile(source, options: PCRE2_MATCH_INVALID_UTF)
        }
        self.code = code
        self.isJIT = tailship_pcre2_jit_compile(code) == 0

        var count: UInt32 = 0
        _ = tailship_pcre2_pattern_info(code, UInt32(PCRE2_INFO_CAPTURECOUNT), &count)
        self.captureCount = Int(count)
        self.namedGroups = Pattern.readNameTable(code)

        guard let data = tailship_pcre2_match_data_create(code),
            let context = tailship_pcre2_match_context_create()
        else {
            fatalError("pcre2: out of memory creating match data")
        }
        self.matchData = data
        self.context = context
        _ = tailship_pcre2_set_match_limit(context, matchLimit)
        _ = tailship_pcre2_set_depth_limit(context, depthLimit)
        _ = tailship_pcre2_set_heap_limit(context, heapLimitKiB)
        self.ovector = UnsafeMutableRawPointer(tailship_pcre2_get_ovector_pointer(data))
            .assumingMemoryBound(to: Int.self)
    }

    deinit {
        tailship_pcre2_match_context_free(context)
        tailship_pcre2_match_data_free(matchData)
        tailship_pcre2_code_free(code)
    }

    /// The group number of the named group `name`, if the pattern has one.
    public func groupIndex(named name: String) -> Int? {
        namedGroups.first { $0.name == name }?.index
    }

    /// The match() calls one attempt on a line of `lineBytes` may take.
    public static func budget(lineBytes: Int) -> Int {
        budgetBase + budgetPerByte * lineBytes
    }

    /// Matches the pattern against `bytes` (the whole buffer is the subject), within the line's
    /// budget (`budget(lineBytes:)`, at most the pattern's `matchLimit`).
    public func match(_ bytes: UnsafeRawBufferPointer) -> MatchResult {
        let budget = budgeted ? Self.budget(lineBytes: bytes.count) : Int.max
        _ = tailship_pcre2_set_match_limit(context, budget < Int(matchLimit) ? UInt32(budget) : matchLimit)
        // An empty buffer may have a nil base address; PCRE2 needs a valid pointer.
        let empty: UInt8 = 0
        let rc: Int32 = withUnsafePointer(to: empty) { fallback in
            let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? fallback
            if isJIT {
                return tailship_pcre2_jit_match(code, base, bytes.count, 0, 0, matchData, context)
            }
            return tailship_pcre2_match(code, base, bytes.count, 0, 0, matchData, context)
        }
        if rc >= 0 { return .matched }
        switch rc {
        case PCRE2_ERROR_NOMATCH: return .noMatch
        case PCRE2_ERROR_MATCHLIMIT, PCRE2_ERROR_DEPTHLIMIT, PCRE2_ERROR_HEAPLIMIT, PCRE2_ERROR_JIT_STACKLIMIT:
            return .limitHit
        default:
            // Other match errors (e.g. out of memory) are per-line failures too: never fatal.
            return .limitHit
        }
    }

    /// Convenience for tests and compile-time checks: matches a String's UTF-8 bytes.
    public func match(_ text: String) -> MatchResult {
        var copy = text
        return copy.withUTF8 { match(UnsafeRawBufferPointer($0)) }
    }

    /// Byte range of group `index` in the last matched subject, or nil when the group did not
    /// take part in the match. Only meaningful right after `match` returned `.matched`.
    @inline(__always)
    public func range(ofGroup index: Int) -> Range<Int>? {
        guard index >= 0, index <= captureCount else { return nil }
        let start = ovector[2 * index]
        let end = ovector[2 * index + 1]
        // PCRE2_UNSET is SIZE_MAX, which reads as -1 through size_t -> Int.
        if start < 0 || end < start { return nil }
        return start..<end
    }

    private static func compile(_ source: String, options: UInt32) throws(PatternError) -> OpaquePointer {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let length = source.utf8.count
        let code = source.withCString { ptr in
            ptr.withMemoryRebound(to: UInt8.self, capacity: length + 1) {
                tailship_pcre2_compile($0, length, options, &errorCode, &errorOffset)
            }
        }
        guard let code else {
            throw PatternError(message: errorMessage(errorCode), offset: errorOffset)
        }
        return code
    }

    private static func errorMessage(_ code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBufferPointer {
            tailship_pcre2_get_error_message(code, $0.baseAddress, $0.count)
        }
        guard n > 0 else { return "PCRE2 error \(code)" }
        return String(decoding: buffer[0..<Int(n)], as: UTF8.self)
    }

    /// Reads `PCRE2_INFO_NAMETABLE`: entries of a 2-byte big-endian group number followed by
    /// the zero-terminated name, each `NAMEENTRYSIZE` bytes long.
    private static func readNameTable(_ code: OpaquePointer) -> [(name: String, index: Int)] {
        var count: UInt32 = 0
        var entrySize: UInt32 = 0
        var table: UnsafePointer<UInt8>?
        _ = tailship_pcre2_pattern_info(code, UInt32(PCRE2_INFO_NAMECOUNT), &count)
        guard count > 0 else { return [] }
        _ = tailship_pcre2_pattern_info(code, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize)
        _ = tailship_pcre2_pattern_info(code, UInt32(PCRE2_INFO_NAMETABLE), &table)
        guard let table else { return [] }
        var result: [(name: String, index: Int)] = []
        for i in 0..<Int(count) {
            let entry = table + i * Int(entrySize)
            let number = Int(entry[0]) << 8 | Int(entry[1])
            let name = String(cString: entry + 2)
            if !result.contains(where: { $0.name == name }) { result.append((name, number)) }
        }
        // The table is sorted by name; report groups in pattern order.
        return result.sorted { $0.index < $1.index }
    }
}
