#if canImport(Glibc)
import Synchronization
import Glibc
#endif

/// An event that will never be delivered, with why and where it came from.
public struct DeadLetter: Sendable {
    /// Who refused the event.
    public enum Reason: String, Sendable {
        /// The API refused it (strict 400 failed record, or a whole-batch rejection).
        case apiRejected = "api_rejected"
        /// The API answered 413 for it alone: it can never fit in a request.
        case tooLarge = "too_large"
        /// The agent's local validation refused it before sending.
        case localValidation = "local_validation"
    }

    public var reason: Reason
    /// The offending field when known (`properties.time`), else empty.
    public var field: String
    /// The API's (or the validator's) message.
    public var message: String
    public var origin: EventOrigin
    public var rawLine: String
    /// The event JSON exactly as it was (or would have been) sent.
    public var eventJSON: [UInt8]
    /// When it was dead-lettered, in ms since the epoch.
    public var timeMs: Int64

    /// Creates a dead letter.
    public init(reason: Reason, field: String, message: String, origin: EventOrigin, rawLine: String,
                eventJSON: [UInt8], timeMs: Int64) {
        self.reason = reason
        self.field = field
        self.message = message
        self.origin = origin
        self.rawLine = rawLine
        self.eventJSON = eventJSON
        self.timeMs = timeMs
    }

    /// The NDJSON line: `{"time":…,"reason":…,"field":…,"message":…,"rule":…,"source":…,
    /// "path":…,"identity":…,"offset":…,"line":…,"event":{…}}` plus a newline.
    public func line() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(256 + rawLine.utf8.count + eventJSON.count)
        func key(_ name: String, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
        }
        out.append(UInt8(ascii: "{"))
        key("time", first: true); JSONWriter.appendString(Self.iso8601(ms: timeMs), to: &out)
        key("reason"); JSONWriter.appendString(reason.rawValue, to: &out)
        key("field"); JSONWriter.appendString(field, to: &out)
        key("message"); JSONWriter.appendString(message, to: &out)
        key("rule"); JSONWriter.appendString(origin.rule, to: &out)
        key("source"); JSONWriter.appendString(origin.source, to: &out)
        key("path"); JSONWriter.appendString(origin.path, to: &out)
        key("identity"); JSONWriter.appendString(origin.identity.description, to: &out)
        key("offset"); JSONWriter.appendInt(Int64(clamping: origin.offset), to: &out)
        key("line"); JSONWriter.appendString(rawLine, to: &out)
        key("event")
        if eventJSON.isEmpty { out.append(contentsOf: Array("null".utf8)) } else { out.append(contentsOf: eventJSON) }
        out.append(contentsOf: [UInt8(ascii: "}"), UInt8(ascii: "\n")])
        return out
    }

    /// `2026-03-01T12:00:00.123Z`, from `gmtime_r`.
    static func iso8601(ms: Int64) -> String {
        var seconds = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ms % 1000), 3))Z"
    }
}

/// Appends dead letters as NDJSON to `<state_dir>/dead-letters.ndjson` and fsyncs them
/// before returning, because a dead-lettered event lets its file's checkpoint advance:
/// the letter must be durable before that happens. Thread-safe.
public final class DeadLetterWriter: Sendable {
    /// The file name inside the state directory.
    public static let fileName = "dead-letters.ndjson"
    public let path: String
    private let lock = Mutex<Void>(())

    /// Prepares a writer for `<stateDir>/dead-letters.ndjson`; the file is opened per write so
    /// a deleted or rotated file is simply recreated.
    public init(stateDir: String) {
        path = stateDir.hasSuffix("/") ? stateDir + Self.fileName : stateDir + "/" + Self.fileName
    }

    /// Appends the letters and fsyncs; when this returns without throwing, they are durable.
    public func write(_ letters: [DeadLetter]) throws(FileError) {
        guard !letters.isEmpty else { return }
        var bytes = [UInt8]()
        for letter in letters { bytes.append(contentsOf: letter.line()) }
        let result: Result<Void, FileError> = lock.withLock { _ in
            Result { () throws(FileError) in
                let file = try AppendFile(path: path)
                try file.write(bytes)
                try file.sync()
            }
        }
        try result.get()
    }
}
