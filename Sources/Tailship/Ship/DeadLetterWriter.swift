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
        /// The API answered success three times without stating that it imported the event (no
        /// `num_records_imported`, fewer than sent, a body that is not JSON): never believed.
        case unconfirmed = "unconfirmed"
        /// Older than `/track` keeps (5 days): it would be dropped silently (`api: track` only).
        case tooOldForTrack = "too_old_for_track"
        /// No rule took the line, and a rule's pattern ran out of the per-line match budget on it
        /// (`Pattern.budget(lineBytes:)`): it might have matched; the line is kept here.
        case matchLimit = "match_limit"
    }

    public var reason: Reason
    /// The offending field when known (`properties.time`), else empty.
    public var field: String
    /// The API's (or the validator's) message.
    public var message: String
    public var origin: EventOrigin
    /// The line the event came from; nil when it could not be read again (see `LineRecall`).
    public var rawLine: String?
    /// The event JSON exactly as it was (or would have been) sent.
    public var eventJSON: [UInt8]
    /// When it was dead-lettered, in ms since the epoch.
    public var timeMs: Int64
    /// Whether its fields were cut to fit the dead-letter cap (`line(limit:)`); written as
    /// `"truncated":true` when so.
    public var truncated = false

    /// Creates a dead letter.
    public init(
        reason: Reason, field: String, message: String, origin: EventOrigin, rawLine: String?,
        eventJSON: [UInt8], timeMs: Int64
    ) {
        self.reason = reason
        self.field = field
        self.message = message
        self.origin = origin
        self.rawLine = rawLine
        self.eventJSON = eventJSON
        self.timeMs = timeMs
    }

    /// The NDJSON line: `{"time":…,"reason":…,"field":…,"message":…,"rule":…,"source":…,
    /// "path":…,"identity":…,"offset":…,"line":…[,"truncated":true],"event":{…}}` plus a newline.
    public func line() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(256 + (rawLine?.utf8.count ?? 0) + eventJSON.count)
        func key(_ name: String, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
        }
        out.append(UInt8(ascii: "{"))
        key("time", first: true)
        JSONWriter.appendString(UTCTimestamp.string(ms: timeMs), to: &out)
        key("reason")
        JSONWriter.appendString(reason.rawValue, to: &out)
        key("field")
        JSONWriter.appendString(field, to: &out)
        key("message")
        JSONWriter.appendString(message, to: &out)
        key("rule")
        JSONWriter.appendString(origin.rule, to: &out)
        key("source")
        JSONWriter.appendString(origin.source, to: &out)
        key("path")
        JSONWriter.appendString(origin.path, to: &out)
        key("identity")
        JSONWriter.appendString(origin.identity.description, to: &out)
        key("offset")
        JSONWriter.appendInt(Int64(clamping: origin.offset), to: &out)
        key("line")
        if let rawLine {
            JSONWriter.appendString(rawLine, to: &out)
        } else {
            out.append(contentsOf: Array("null".utf8))
        }
        if truncated {
            key("truncated")
            JSONWriter.appendBool(true, to: &out)
        }
        key("event")
        if eventJSON.isEmpty { out.append(contentsOf: Array("null".utf8)) } else { out.append(contentsOf: eventJSON) }
        out.append(contentsOf: [UInt8(ascii: "}"), UInt8(ascii: "\n")])
        return out
    }
}

/// Appends dead letters as NDJSON to `<state_dir>/dead-letters.ndjson` and fsyncs them
/// before returning, because a dead-lettered event lets its file's checkpoint advance:
/// the letter must be durable before that happens.
///
/// The file is size-capped with rotation of its own: when an append would take it past
/// `maxBytes`, it is renamed to `.1` (`.1` to `.2`, …, the oldest beyond `rotations`
/// deleted) and a fresh file is started. Every write keeps to the cap: a batch is split
/// across files, and a letter too large for any file is cut (`DeadLetter.line(limit:)`).
/// Files are opened never through a link (`StateFile`). Thread-safe; all writers in the
/// process share one lock, so the agent's and the shipper's writers never rotate over each other.
public final class DeadLetterWriter: Sendable {
    /// The file name inside the state directory.
    public static let fileName = "dead-letters.ndjson"
    /// Serialises rotation and append across every writer of the process.
    private static let lock = Mutex<Void>(())

    public let path: String
    /// The size past which the file is rotated before the next append.
    public let maxBytes: Int
    /// How many rotated files (`.1` … `.N`) are kept.
    public let rotations: Int
    /// `,"token":"…"` as the `/track` encoder writes it: removed from every letter's event, so
    /// the project token never lands in a file (docs/security.md).
    private let tokenFragment: [UInt8]?

    /// Prepares a writer for `<stateDir>/dead-letters.ndjson`; the file is opened per write so
    /// a deleted or rotated file is simply recreated. `redactingToken`: the `/track` token the
    /// events were encoded with, to strip from them.
    public init(
        stateDir: String, maxBytes: Int = ConfigDefaults.deadLetterMaxBytes,
        rotations: Int = ConfigDefaults.deadLetterRotations, redactingToken token: String? = nil
    ) {
        path = Self.path(stateDir: stateDir)
        self.maxBytes = max(1, maxBytes)
        self.rotations = max(0, rotations)
        tokenFragment = token.map { EventEncoder.tokenFragment($0) }
    }

    /// `<stateDir>/dead-letters.ndjson`.
    public static func path(stateDir: String) -> String {
        stateDir.hasSuffix("/") ? stateDir + fileName : stateDir + "/" + fileName
    }

    /// Appends the letters and fsyncs; when this returns without throwing, they are durable.
    public func write(_ letters: [DeadLetter]) throws(SyscallError) {
        guard !letters.isEmpty else { return }
        let lines = letters.map { letter in
            var letter = letter
            if let tokenFragment { letter.eventJSON = EventEncoder.removing(tokenFragment, from: letter.eventJSON) }
            return letter.line(limit: maxBytes)
        }
        let result: Result<Void, SyscallError> = Self.lock.withLock { _ in
            Result { () throws(SyscallError) in try append(lines) }
        }
        try result.get()
    }

    /// Appends `lines`, rotating before any that would take the file past the cap (a line
    /// alone in a fresh file is written even so: only a cap below `DeadLetter.cutLineBytes`,
    /// which the configuration does not allow, gets there).
    private func append(_ lines: [[UInt8]]) throws(SyscallError) {
        var file = try openCurrent()
        var size = try file.size()
        var directoryChanged = size == 0  // created now (or empty): its entry must be made durable
        var pending: [UInt8] = []
        for line in lines {
            if size + pending.count + line.count > maxBytes, size + pending.count > 0 {
                try file.write(pending)
                try file.sync()
                pending = []
                try rotate()
                file = try openCurrent()
                size = try file.size()
                directoryChanged = true
            }
            pending += line
        }
        try file.write(pending)
        try file.sync()
        if directoryChanged { try AppendFile.syncDirectory(of: path) }
    }

    private func openCurrent() throws(SyscallError) -> AppendFile {
        AppendFile(owning: try StateFile.open(path, flags: O_WRONLY | O_APPEND | O_CREAT), path: path)
    }

    /// Counts the dead letters on disk: complete lines across the current file and its
    /// rotated copies (any `dead-letters.ndjson.<n>`). Missing files count as zero, and so
    /// does anything that is not a regular file (a link, a device: never read).
    public static func count(stateDir: String) throws(SyscallError) -> Int {
        let base = path(stateDir: stateDir)
        var total = try lines(in: base)
        // Rotated files are found by listing, so a smaller `rotations` after a config change
        // still counts what an earlier run kept.
        guard let dir = opendir(stateDir) else {
            if errno == ENOENT { return total }
            throw SyscallError("opendir", errno: .current, path: stateDir)
        }
        defer { closedir(dir) }
        let prefix = fileName + "."
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix(prefix), let n = Int(name.dropFirst(prefix.count)), n > 0 else { continue }
            total += try lines(in: base + "." + String(n))
        }
        return total
    }

    /// Shifts `.k` to `.k+1` (dropping the oldest) and the current file to `.1`; `rename`
    /// and `unlink` act on the entries themselves, never on what a link points at.
    private func rotate() throws(SyscallError) {
        guard rotations > 0 else {
            try StateFile.removeIfPresent(path)
            return
        }
        try StateFile.removeIfPresent(path + ".\(rotations)")
        for k in stride(from: rotations - 1, through: 1, by: -1) {
            try Self.rename(path + ".\(k)", to: path + ".\(k + 1)")
        }
        try Self.rename(path, to: path + ".1")
    }

    private static func rename(_ from: String, to: String) throws(SyscallError) {
        do {
            _ = try syscallRetrying("rename", path: from) { Glibc.rename(from, to) }
        } catch  where error.errno == .noEntry {
        }
    }

    /// Newline count of a regular file, read in 64 KiB chunks up to the size it had when
    /// opened (a file that keeps growing cannot keep the count going); 0 when it does not
    /// exist or is not a regular file.
    private static func lines(in path: String) throws(SyscallError) -> Int {
        let fd: Int32
        do {
            fd = try StateFile.open(path, flags: O_RDONLY, narrowing: false)
        } catch  where [ENOENT, ELOOP, EINVAL].contains(error.errno.rawValue) {
            return 0
        }
        defer { close(fd) }
        let size = try StateFile.size(of: fd, path: path)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        defer { buffer.deallocate() }
        var count = 0
        var offset = 0
        while offset < size {
            let want = min(buffer.count, size - offset)
            let n = try syscallRetrying("pread", path: path) { pread(fd, buffer.baseAddress, want, off_t(offset)) }
            if n == 0 { return count }
            offset += n
            for byte in buffer[0..<n] where byte == 0x0A { count += 1 }
        }
        return count
    }
}
