#if canImport(Glibc)
    import Glibc
#endif

/// Small text helpers that replace Foundation-only API (`FileHandle`, `String(format:)`), so
/// the binary links FoundationEssentials alone.
public enum TextOutput {
    /// Writes `text` to standard error whole (retrying short writes and EINTR); errors are
    /// ignored, as there is nowhere left to report them.
    public static func standardError(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = write(STDERR_FILENO, buffer.baseAddress! + done, buffer.count - done)
                if n > 0 {
                    done += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    /// `value` with `digits` decimals, exactly as `String(format: "%.<digits>f", value)` (printf's
    /// rounding), for the durations tailship prints.
    public static func fixed(_ value: Double, digits: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let written = withVaList([Int32(clamping: max(0, min(digits, 17))), value]) { arguments in
            vsnprintf(&buffer, buffer.count, "%.*f", arguments)
        }
        guard written >= 0, Int(written) < buffer.count else { return "\(value)" }
        return String(decoding: buffer.prefix(Int(written)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
