/// Credentials the caller resolved from the configuration's secret sources. The shipper
/// never reads environment variables or secret files itself, and never logs these.
public struct ShipCredentials: Sendable, Equatable {
    /// HTTP Basic user: a service-account name, or the project token / secret.
    public var basicUser: String?
    /// HTTP Basic password: the service-account secret; nil or empty for token/secret auth.
    public var basicPassword: String?
    /// Sent as `project_id` only with a service account (a non-empty password): its absence
    /// is what makes Mixpanel treat the user as a token or secret (Mixpanel's Ingestion API docs).
    public var projectId: String?
    /// Project token, written into every event for `api: track`.
    public var token: String?

    /// Creates a credential set.
    public init(
        basicUser: String? = nil, basicPassword: String? = nil, projectId: String? = nil, token: String? = nil
    ) {
        self.basicUser = basicUser
        self.basicPassword = basicPassword
        self.projectId = projectId
        self.token = token
    }
}

/// Internal knobs with production defaults; tests shrink them to run fast.
public struct ShipperTuning: Sendable {
    /// Bytes of events (`EncodedEvents.bytes`: their JSON and a fixed size each) the submit queue holds before `submit`
    /// waits; nil = 512 KiB: two submit groups, enough to keep the batching thread fed (a larger
    /// queue only held more memory: peak RSS 36 MiB with 2 MiB, 31 MiB with 512 KiB, the same rate).
    public var queueBytes: Int?
    /// Accepted events remembered for within-run dedupe (25,000: 0.7 MiB; re-submissions come
    /// from lines read again shortly after, and the API deduplicates the rest).
    public var dedupeCapacity: Int
    /// Jitter added to every backoff (Mixpanel advises 1–5 s).
    public var jitterMs: ClosedRange<Int>
    /// Connect timeout per request.
    public var connectTimeoutMs: Int

    /// Creates tuning values; the defaults are the production ones.
    public init(
        queueBytes: Int? = nil, dedupeCapacity: Int = 25_000, jitterMs: ClosedRange<Int> = 1000...5000,
        connectTimeoutMs: Int = 10_000
    ) {
        self.queueBytes = queueBytes
        self.dedupeCapacity = dedupeCapacity
        self.jitterMs = jitterMs
        self.connectTimeoutMs = connectTimeoutMs
    }
}

/// An event inside the shipper once encoded: only what delivery needs after that (its
/// acknowledgement handle, dedupe key, `$insert_id` for matching a 400's failed records, and
/// origin for a dead letter). The event's values live on only as the batch's JSON.
struct ShipItem: Sendable {
    let origin: EventOrigin
    /// Its `$insert_id`'s bytes within its JSON (`Batch.insertId(at:)`).
    let insertId: Range<Int>
    let key: DedupeWindow.Key

    var ack: AckHandle { origin.ack }
}

/// Where and how requests go, derived from the destination and credentials.
struct IngestionTarget: Sendable {
    var endpoint: IngestionEndpoint
    var url: String
    var headers: [String]
    var basicAuth: (user: String, password: String)?
    /// The project token events must carry (`/track` only).
    var token: String?
    var gzip: Bool
    var timeoutMs: Int
    var connectTimeoutMs: Int

    init(destination: DestinationConfig, credentials: ShipCredentials, connectTimeoutMs: Int) {
        endpoint = destination.api
        var base = destination.url
        while base.hasSuffix("/") { base.removeLast() }
        switch destination.api {
        case .import:
            url = base + "/import?strict=1"
            let password = credentials.basicPassword ?? ""
            if let projectId = credentials.projectId, !password.isEmpty {
                url += "&project_id=" + Self.percentEncoded(projectId)
            }
            basicAuth = credentials.basicUser.map { (user: $0, password: password) }
        case .track:
            url = base + "/track?verbose=1"
            basicAuth = nil  // the token travels inside each event
        }
        token = destination.api == .track ? credentials.token : nil
        gzip = destination.gzip
        headers = [
            "Content-Type: application/json",
            "Accept: application/json",
            "User-Agent: tailship/\(TailshipVersion.current)",
        ]
        if gzip { headers.append("Content-Encoding: gzip") }
        timeoutMs = destination.timeoutMs
        self.connectTimeoutMs = min(connectTimeoutMs, destination.timeoutMs)
    }

    /// Takes `other`'s url (its `project_id`) and Basic credentials, keeping this target's body
    /// encoding (a batch sent uncompressed after a gzip failure stays so).
    mutating func takeCredentials(of other: IngestionTarget) {
        url = other.url
        basicAuth = other.basicAuth
    }

    func request(body: [UInt8]) -> HTTPRequest {
        HTTPRequest(
            url: url, body: body, headers: headers, basicAuth: basicAuth, timeoutMs: timeoutMs,
            connectTimeoutMs: connectTimeoutMs)
    }

    /// RFC 3986 unreserved characters pass; everything else is %XX.
    static func percentEncoded(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
