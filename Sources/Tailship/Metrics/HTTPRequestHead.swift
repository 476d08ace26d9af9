/// The request line of an HTTP/1.x request, as far as the metrics endpoint needs it: the
/// method and the path (the query is ignored). Headers are read to the blank line and
/// otherwise ignored; a body is never read (GET and HEAD have none worth reading).
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: String
    public var path: String

    /// What a buffer holds so far.
    public enum Parse: Sendable, Equatable {
        /// No blank line yet: read more (while under the size limit).
        case incomplete
        case request(HTTPRequestHead)
        /// Not an HTTP/1.x request line: answered 400.
        case malformed
    }

    /// The largest request head read; a longer one is answered 431 and the connection closed.
    public static let maxBytes = 8192

    /// Parses `bytes`, the start of a connection's input. A head ends at the first blank line
    /// (`\r\n\r\n`, or `\n\n` from a lenient client).
    public static func parse(_ bytes: [UInt8]) -> Parse {
        guard let end = headEnd(bytes) else {
            // A request line already wrong need not wait for the rest.
            if let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\n")), requestLine(bytes[..<lineEnd]) == nil {
                return .malformed
            }
            return .incomplete
        }
        let lineEnd = bytes[..<end].firstIndex(of: UInt8(ascii: "\n")) ?? end
        guard let head = requestLine(bytes[..<lineEnd]) else { return .malformed }
        return .request(head)
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\n") {
                if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\n") { return i }
                if i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "\r"), bytes[i + 2] == UInt8(ascii: "\n") {
                    return i
                }
            }
            i += 1
        }
        return nil
    }

    /// `METHOD SP target SP HTTP/1.x`, the target in origin form (`/path?query`).
    private static func requestLine(_ raw: ArraySlice<UInt8>) -> HTTPRequestHead? {
        var line = raw
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let method = String(decoding: parts[0], as: UTF8.self)
        let target = String(decoding: parts[1], as: UTF8.self)
        let version = String(decoding: parts[2], as: UTF8.self)
        guard !method.isEmpty, method.utf8.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }),
            version == "HTTP/1.1" || version == "HTTP/1.0", target.hasPrefix("/"),
            target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return nil }
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
        return HTTPRequestHead(method: method, path: path ?? target)
    }
}
