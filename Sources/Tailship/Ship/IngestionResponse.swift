#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One event the API refused in a strict-mode 400 (Mixpanel's Ingestion API docs).
public struct FailedRecord: Sendable, Equatable {
    /// 0-based position in the submitted batch; the key the shipper matches on.
    public var index: Int
    /// The event's `$insert_id` as echoed by the API (`insert_id` or `$insert_id` key).
    public var insertId: String?
    /// The offending field, e.g. `properties.time`.
    public var field: String
    public var message: String

    /// Creates a failed record.
    public init(index: Int, insertId: String?, field: String, message: String) {
        self.index = index
        self.insertId = insertId
        self.field = field
        self.message = message
    }
}

/// What the shipper must do with a batch after one attempt.
public enum IngestionOutcome: Sendable, Equatable {
    /// Every event landed (duplicates included: the API counts and dedupes them).
    case accepted
    /// Strict 400: exactly these records failed for good; the others landed.
    case partial(failed: [FailedRecord])
    /// 413: the body is over the server's cap; split and resend.
    case tooLarge
    /// 429, 408, 5xx, other unexpected statuses, or no response: resend the same bytes later.
    case retryable(reason: String, retryAfterSeconds: Int?)
    /// 401/403, or `/track` status 0 about the token: credentials are wrong; pause and keep
    /// retrying loudly, never drop.
    case unauthorized(reason: String)
    /// The whole batch is invalid (a 400 without `failed_records`, or `/track` status 0 for
    /// anything but a token or temporary error).
    case rejected(reason: String)
    /// A 2xx whose body says not every event landed (`num_records_imported` short, or a legacy
    /// `status: 0`): resent (harmless, same `$insert_id`s) up to a limit, then accepted, since a
    /// shortfall the API repeats on every attempt is not one resending fixes.
    case unconfirmed(reason: String)
}

/// Pure classification of an ingestion response (status, headers, body) into an outcome.
///
/// Tolerant by design: `status` may be a string or an integer, the failed-record key may
/// be `insert_id` or `$insert_id`, and bodies may not be JSON at all (a 503 from a proxy).
public enum IngestionResponse {
    /// Classifies an HTTP response from `endpoint` to a request of `sent` events (nil: unknown).
    public static func classify(_ response: HTTPResponse, endpoint: IngestionEndpoint, sent: Int? = nil)
        -> IngestionOutcome
    {
        classify(
            status: response.status, retryAfter: response.header("retry-after"), body: response.body,
            endpoint: endpoint, sent: sent)
    }

    /// Classifies a request that got no response: always retryable.
    public static func classify(_ error: TransportError) -> IngestionOutcome {
        .retryable(reason: error.description, retryAfterSeconds: nil)
    }

    /// Classifies the parts of a response; `retryAfter` is the raw header value.
    ///
    /// A strict `/import` 200 means every event landed, duplicates included (Mixpanel's
    /// Ingestion API docs), and says so: `num_records_imported`. One that does not — no JSON body (a proxy
    /// or a wrong `url:` answering 200), no count, a count below `sent`, or a legacy
    /// `status: 0` — is `.unconfirmed`: resending is harmless (same `$insert_id`s) and believing
    /// it could lose events.
    public static func classify(
        status: Int, retryAfter: String?, body: [UInt8],
        endpoint: IngestionEndpoint, sent: Int? = nil
    ) -> IngestionOutcome {
        let json = parseObject(body)
        let message = errorMessage(json, body: body)
        switch status {
        case 200..<300:
            if endpoint == .track { return classifyTrack(json: json, body: body) }
            guard let json else { return .unconfirmed(reason: "\(status) with a body that is not JSON: \(message)") }
            guard let imported = json.imported?.int else {
                return .unconfirmed(reason: "\(status) without num_records_imported: \(message)")
            }
            if let sent, imported < sent {
                return .unconfirmed(reason: "\(status) but only \(imported) of \(sent) records imported: \(message)")
            }
            if case .number(0) = json.status {
                return .unconfirmed(reason: "\(status) with status 0: \(message)")
            }
            return .accepted
        case 400:
            if let records = json?.failedRecords, !records.isEmpty {
                let failed = records.compactMap { $0 }
                if failed.count == records.count { return .partial(failed: failed) }
                return .rejected(reason: "400 with unreadable failed_records: \(message)")
            }
            return .rejected(reason: "400: \(message)")
        case 401, 403:
            return .unauthorized(reason: "\(status): \(message)")
        case 413:
            return .tooLarge
        default:
            // 408/429/5xx by the book; any other status (404, a 3xx from a misrouted proxy)
            // is retried too, since dropping data for a misconfiguration is worse.
            let seconds = retryAfter.flatMap { parseRetryAfter($0) }
            return .retryable(reason: "\(status): \(message)", retryAfterSeconds: seconds)
        }
    }

    /// `/track?verbose=1` answers 200 with `{"status":1|0,"error":…}`; without verbose, `1`/`0`.
    static func classifyTrack(json: ResponseBody?, body: [UInt8]) -> IngestionOutcome {
        let status: Int?
        if let json {
            status = json.status?.int
        } else {
            status = Int(String(decoding: body, as: UTF8.self).trimmingWhitespace())
        }
        switch status {
        case 1: return .accepted
        case 0:
            let error = json?.error.map { SafeText.truncated($0) } ?? "status 0"
            if error.lowercased().contains("temporary") {
                return .retryable(reason: "track: \(error)", retryAfterSeconds: nil)
            }
            // `token, missing or empty`: the token is the /track credential, and credential
            // problems never drop events (docs/delivery.md): pause like a 401 until a reload fixes it.
            if error.lowercased().contains("token") {
                return .unauthorized(reason: "track: \(error)")
            }
            return .rejected(reason: "track: \(error)")
        default:
            return .retryable(reason: "track: unreadable response \(snippet(body))", retryAfterSeconds: nil)
        }
    }

    /// `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 10.2.3); nil when unreadable.
    public static func parseRetryAfter(_ value: String, now: Date = Date()) -> Int? {
        let trimmed = value.trimmingWhitespace(newlines: false)
        if let seconds = Int(trimmed) { return max(0, seconds) }
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        guard let seconds = HTTPDate.seconds(Substring(trimmed), nowSeconds: nowSeconds) else { return nil }
        return max(0, Int((Double(seconds) - now.timeIntervalSince1970).rounded(.up)))
    }

    private static func parseObject(_ body: [UInt8]) -> ResponseBody? {
        guard let first = body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
            first == UInt8(ascii: "{")
        else { return nil }
        return try? JSONDecoder().decode(ResponseBody.self, from: Data(body))
    }

    /// The API's `error` text, or the start of a non-JSON body, truncated (`SafeText`).
    private static func errorMessage(_ json: ResponseBody?, body: [UInt8]) -> String {
        if let error = json?.error { return SafeText.truncated(error) }
        if case .string(let status) = json?.status { return SafeText.truncated(status) }
        return snippet(body)
    }

    private static func snippet(_ body: [UInt8]) -> String {
        let text = SafeText.truncated(bytes: body).trimmingWhitespace()
        return text.isEmpty ? "(empty body)" : text
    }
}

/// The keys of an ingestion response body that classification reads. Tolerant: a key of an
/// unexpected type reads as absent rather than failing the whole body.
struct ResponseBody: Decodable {
    /// A JSON number (as an `Int`, truncated; `true` is 1) or string.
    enum Scalar: Equatable {
        case number(Int)
        case string(String)
        case other

        var int: Int? {
            switch self {
            case .number(let n): return n
            case .string(let s): return Int(s)
            case .other: return nil
            }
        }
    }

    var imported: Scalar?
    var status: Scalar?
    var error: String?
    /// Each element: the record, or nil when it is not an object with an `index`.
    var failedRecords: [FailedRecord?]?

    private enum Key: String, CodingKey {
        case imported = "num_records_imported"
        case status, error
        case failedRecords = "failed_records"
        case index
        case insertId = "insert_id"
        case dollarInsertId = "$insert_id"
        case field, message
    }

    init(from decoder: any Decoder) throws {
        let object = try decoder.container(keyedBy: Key.self)
        imported = try? object.decodeIfPresent(LooseScalar.self, forKey: .imported)?.value
        status = try? object.decodeIfPresent(LooseScalar.self, forKey: .status)?.value
        error = try? object.decodeIfPresent(String.self, forKey: .error)
        failedRecords = (try? object.decodeIfPresent([LooseRecord].self, forKey: .failedRecords))?.map(\.record)
    }

    private struct LooseScalar: Decodable {
        var value: Scalar

        init(from decoder: any Decoder) throws {
            let single = try decoder.singleValueContainer()
            if let n = try? single.decode(Int.self) {
                value = .number(n)
            } else if let d = try? single.decode(Double.self), d.isFinite, abs(d) < 9e18 {
                value = .number(Int(d))
            } else if let b = try? single.decode(Bool.self) {
                value = .number(b ? 1 : 0)
            } else if let s = try? single.decode(String.self) {
                value = .string(s)
            } else {
                value = .other
            }
        }
    }

    private struct LooseRecord: Decodable {
        var record: FailedRecord?

        init(from decoder: any Decoder) throws {
            guard let object = try? decoder.container(keyedBy: Key.self),
                let index = (try? object.decodeIfPresent(LooseScalar.self, forKey: .index))?.value.int
            else {
                record = nil
                return
            }
            func text(_ key: Key) -> String? { try? object.decodeIfPresent(String.self, forKey: key) }
            // Every text is the server's: bounded here, before any log line or dead letter sees it.
            // An insert id cut this way still matches none of ours (they are at most 36 bytes).
            record = FailedRecord(
                index: index, insertId: (text(.insertId) ?? text(.dollarInsertId)).map { SafeText.truncated($0) },
                field: SafeText.truncated(text(.field) ?? ""), message: SafeText.truncated(text(.message) ?? ""))
        }
    }
}
