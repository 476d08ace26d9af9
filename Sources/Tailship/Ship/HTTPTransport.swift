/// One HTTP POST as the shipper sends it.
public struct HTTPRequest: Sendable {
    public var url: String
    public var body: [UInt8]
    /// Full header lines, `Name: value`.
    public var headers: [String]
    /// HTTP Basic credentials; the password may be empty (project token or secret).
    public var basicAuth: (user: String, password: String)?
    public var timeoutMs: Int
    public var connectTimeoutMs: Int

    /// Creates a request description.
    public init(
        url: String, body: [UInt8], headers: [String], basicAuth: (user: String, password: String)?,
        timeoutMs: Int, connectTimeoutMs: Int
    ) {
        self.url = url
        self.body = body
        self.headers = headers
        self.basicAuth = basicAuth
        self.timeoutMs = timeoutMs
        self.connectTimeoutMs = connectTimeoutMs
    }
}

/// What came back: status, the headers the shipper reads, and the body bytes.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    /// Response headers with lower-cased names, in arrival order (the last block only,
    /// when the server sent interim `100 Continue` responses).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// Creates a response value.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The value of the first header named `name` (case-insensitive), if any.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }

    public static func == (a: HTTPResponse, b: HTTPResponse) -> Bool {
        a.status == b.status && a.body == b.body
            && a.headers.map { [$0.name, $0.value] } == b.headers.map { [$0.name, $0.value] }
    }
}

/// Why a request got no HTTP response at all.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Broad classes; every one of them is retried (Mixpanel's Ingestion API docs).
    public enum Kind: String, Sendable {
        case timeout, dns, connect, tls, reset, aborted, other
        /// The answer's body (or headers) went past the transport's cap: read no further.
        case responseTooLarge = "response_too_large"
    }

    public var kind: Kind
    /// The library's own code (a `CURLcode` for libcurl), for the log.
    public var code: Int
    public var message: String

    /// Creates a transport error.
    public init(kind: Kind, code: Int, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message) (code \(code))" }
}
