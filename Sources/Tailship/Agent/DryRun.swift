#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// `tailship test`: lines from files or stdin through one source's rules, printing on stdout
/// exactly the event JSON `run` would send, and on stderr, with `explain`, each rule's verdict.
public struct DryRun {
    public enum Input: Sendable {
        case file(String)
        case standardInput
    }

    /// Counts, for the summary line.
    public struct Summary: Sendable, Equatable {
        /// Lines read; for a multiline source, records.
        public var lines = 0
        /// For a multiline source: the lines its records were made of.
        public var linesInRecords: Int?
        public var events = 0
        public var invalid = 0
        public var unmatched = 0
        public var dropped = 0
        /// Events made, per rule; invalid events per reason (the field at fault, or the dead
        /// letter's reason); unmatched lines per shape (see `DryRun.shape`), bounded.
        public var eventsByRule: [String: Int] = [:]
        /// Lines each rule took, whatever came of them (an event, a drop, an invalid event).
        public var matchesByRule: [String: Int] = [:]
        public var invalidByReason: [String: Int] = [:]
        public var unmatchedShapes: [String: Int] = [:]

        public init() {}
    }

    let source: SourceConfig
    let engine: RuleEngine
    let encoder: EventEncoder
    let explain: Bool
    let isTrack: Bool
    /// The encoder's `,"token":"…"` (for `/track`), written by `RuleEngine.encode`.
    let tokenFragment: [UInt8]?
    /// Gets the events' JSON lines, several at a time (each ends with a newline).
    let write: (UnsafeRawBufferPointer) -> Void
    let err: (String) -> Void

    /// Events are written as bytes, in chunks of whole lines: one buffer for all of them, no
    /// String per event (the `test` command's throughput is its output's).
    public init(
        plan: AgentPlan, sourceIndex: Int, explain: Bool, write: @escaping (UnsafeRawBufferPointer) -> Void,
        err: @escaping (String) -> Void
    ) {
        self.source = plan.config.sources[sourceIndex]
        self.engine = plan.engines[sourceIndex]
        self.encoder = EventEncoder(token: plan.config.destination.api == .track ? plan.credentials.token : nil)
        self.isTrack = plan.config.destination.api == .track
        self.tokenFragment = encoder.token.map(EventEncoder.tokenFragment)
        self.explain = explain
        self.write = write
        // The verdicts quote file names, field values and line text: a control character in
        // them is printed escaped, never raw to the terminal. The event JSON on `out` is
        // already escaped by the encoder.
        self.err = { err(SafeText.escapingControls($0)) }
    }

    /// `out` gets each event's JSON as a String, without its newline.
    public init(
        plan: AgentPlan, sourceIndex: Int, explain: Bool, out: @escaping (String) -> Void,
        err: @escaping (String) -> Void
    ) {
        self.init(
            plan: plan, sourceIndex: sourceIndex, explain: explain,
            write: { chunk in
                for line in chunk.split(separator: UInt8(ascii: "\n")) { out(String(decoding: line, as: UTF8.self)) }
            }, err: err)
    }

    /// One run's state: the events' JSON lines waiting for `write`, the line number, and the
    /// per-rule counts of lines that took the fast path (by rule number, added to the
    /// summary's by-name counts at the end). A value passed `inout` through each chunk's loop.
    struct Pass {
        let bytes = ByteBuffer(capacity: Self.chunk + 4096)
        var number = 0
        var events: [Int]
        var matches: [Int]
        /// Handed on past this size, and at the end of each chunk read.
        static let chunk = 64 * 1024

        init(rules: Int) {
            events = Array(repeating: 0, count: rules)
            matches = Array(repeating: 0, count: rules)
        }

        mutating func count(into summary: inout Summary, names: [String]) {
            for (i, name) in names.enumerated() {
                if events[i] > 0 { summary.eventsByRule[name, default: 0] += events[i] }
                if matches[i] > 0 { summary.matchesByRule[name, default: 0] += matches[i] }
            }
            events = events.map { _ in 0 }
            matches = matches.map { _ in 0 }
        }

        func flush(_ write: (UnsafeRawBufferPointer) -> Void) {
            guard bytes.byteCount > 0 else { return }
            write(bytes.bytes)
            bytes.removeAll()
        }
    }

    /// Processes every line of `input` (a plain or gzip file, or standard input); throws when
    /// it cannot be read. Lines are framed by the same loop as `run` and `import`, so the
    /// default `$insert_id`s are the ones they would send for the same bytes.
    /// A file is read from byte `offset` (decompressed bytes for gzip), as a resumed `import`
    /// would read it.
    /// Returns the offset it read to.
    @discardableResult
    public func run(_ input: Input, from offset: UInt64 = 0, summary: inout Summary) throws -> UInt64 {
        let now = WallClock.nowMs()
        var splitter = LineSplitter(
            startOffset: offset, maxLineBytes: source.maxLineBytes, framing: source.recordFraming)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        var pass = Pass(rules: engine.rules.count)
        let names = ruleNames
        defer { pass.count(into: &summary, names: names) }
        let name: String
        switch input {
        case .file(let path): name = path
        case .standardInput: name = "stdin"
        }
        let body: (LineBatch) -> Void = { batch in
            handle(batch, name: name, now: now, pass: &pass, summary: &summary)
        }
        switch input {
        case .file(let path) where try GzipFileReader.detect(path: path):
            var bytes = GzipBytes(try GzipFileReader(path: path))
            _ = try splitter.read(from: &bytes, buffer: buffer, deliver: body)
        case .file(let path):
            let file = try ReadableFile(path: path)
            let headLength = Int(min(offset, UInt64(LineSplitter.headCapacity)))
            splitter.prime(head: try file.bytes(at: 0, length: headLength) ?? [])
            var bytes = FileBytes(file)
            _ = try splitter.read(from: &bytes, buffer: buffer, deliver: body)
        case .standardInput where source.multiline != nil:
            try readLive(&splitter, buffer: buffer) { batch in
                handle(batch, name: name, now: now, pass: &pass, summary: &summary)
            }
        case .standardInput:
            var bytes = DescriptorBytes(STDIN_FILENO)
            _ = try splitter.read(from: &bytes, buffer: buffer, deliver: body)
        }
        // A file read once is complete: its last line counts even without a newline.
        splitter.flush(body)
        pass.flush(write)
        if source.multiline != nil { summary.linesInRecords = (summary.linesInRecords ?? 0) + splitter.linesFramed }
        return splitter.nextOffset
    }

    /// Standard input into multiline records, as it comes (`tail -f app.log | tailship test`): a
    /// record nothing follows is shown once its `timeout` passes without a new line, as `run`
    /// would send it, not only at the end of the input.
    private func readLive(
        _ splitter: inout LineSplitter, buffer: UnsafeMutableRawBufferPointer, deliver: (LineBatch) -> Void
    ) throws {
        var bytes = DescriptorBytes(STDIN_FILENO)
        while true {
            if let deadline = splitter.recordDeadline {
                let waitMs = max(0, (deadline - .now).wholeMilliseconds + 1)
                var input = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
                let ready = poll(&input, 1, Int32(clamping: waitMs))
                if ready == 0 || (ready < 0 && errno == EINTR) {
                    splitter.completeRecordIfDue(now: .now, deliver)
                    continue
                }
                // Readable, at its end, or failing: the read says which.
            }
            if try splitter.read(from: &bytes, buffer: buffer, budget: 1, deliver: deliver) == .atEnd { return }
        }
    }

    /// `10 lines, 9 events, 1 invalid (would be dead-lettered), 0 unmatched, 0 dropped`
    public static func counts(_ summary: Summary) -> String {
        let read = summary.linesInRecords.map { "\($0) lines in \(summary.lines) records" } ?? "\(summary.lines) lines"
        return "\(read), \(summary.events) events, \(summary.invalid) invalid (would be dead-lettered), "
            + "\(summary.unmatched) unmatched, \(summary.dropped) dropped"
    }

    private func handle(_ batch: LineBatch, name: String, now: Int64, pass: inout Pass, summary: inout Summary) {
        for line in batch {
            pass.number += 1
            handle(line, name: name, now: now, pass: &pass, summary: &summary)
            // With explain, each line's verdicts and event stay together across the two streams.
            if explain || pass.bytes.byteCount >= Pass.chunk { pass.flush(write) }
        }
        // Standard input followed live (`tail -f | tailship test`) shows each read at once.
        pass.flush(write)
    }

    private func handle(_ line: Line, name: String, now: Int64, pass: inout Pass, summary: inout Summary) {
        let number = pass.number
        summary.lines += 1
        if !explain {
            // The common case, straight from the line's bytes to the output (no Event, no
            // String); anything else is decided below, as always.
            var out = pass.bytes  // the one buffer, by reference
            let start = out.byteCount
            switch engine.encode(
                line: line.bytes, basis: line.basis, offset: line.offset, nowMs: now, token: tokenFragment,
                into: &out)
            {
            case .event(let rule, let timeMs, _, _) where !(isTrack && timeMs < now - Shipper.trackMaxAgeMs):
                out.write(UInt8(ascii: "\n"))
                summary.events += 1
                pass.events[rule] += 1
                pass.matches[rule] += 1
                return
            case .event:
                out.truncate(to: start)
            case .dropped(let rule):
                summary.dropped += 1
                pass.matches[rule] += 1
                return
            case .unmatched:
                summary.unmatched += 1
                summary.countShape(of: line.bytes)
                return
            case .slow:
                break
            }
        }
        // `FILE:LINE: `, or for a multiline source `FILE: record N (byte OFFSET): `.
        let place =
            source.multiline == nil ? "\(name):\(number): " : "\(name): record \(number) (byte \(line.offset)): "
        let outcome = engine.process(line: line.bytes, basis: line.basis, offset: line.offset, nowMs: now)
        if explain {
            var text = place
            switch outcome {
            case .event(_, let rule): text += "rule \(rule) produced an event"
            case .dropped(let rule): text += "rule \(rule) matched and drops the line"
            case .unmatched: text += "no rule matched"
            case .limitHit(let rule):
                text += "no rule matched, and the pattern of '\(rule)' ran out of its match budget"
            case .invalid(let rule, _): text += "rule \(rule) matched but its event is invalid"
            }
            if line.truncated {
                text += source.multiline == nil ? " (line cut at max_line_bytes)" : " (record cut at its limits)"
            }
            err(text)
            for trace in engine.explain(line: line.bytes, basis: line.basis, offset: line.offset, nowMs: now) {
                err("  \(trace)")
                if case .matched = trace.verdict { break }
                if case .dropped = trace.verdict { break }
                if case .invalid = trace.verdict { break }
            }
        }
        switch outcome {
        case .event(_, let rule), .dropped(let rule), .invalid(let rule, _):
            summary.matchesByRule[rule, default: 0] += 1
        case .unmatched, .limitHit:
            break
        }
        switch outcome {
        case .unmatched:
            summary.unmatched += 1
            summary.countShape(of: line.bytes)
        case .limitHit(let rule):
            summary.invalid += 1
            summary.invalidByReason["match_limit", default: 0] += 1
            listInvalid(
                summary,
                place + "the pattern of '\(rule)' ran out of its match budget on this line "
                    + "(would be dead-lettered: match_limit)")
        case .dropped:
            summary.dropped += 1
        case .event(let event, let rule) where isTrack && event.timeMs < now - Shipper.trackMaxAgeMs:
            // `run` dead-letters it instead of sending it (see `Shipper.trackMaxAgeMs`).
            summary.invalid += 1
            summary.invalidByReason["too_old_for_track", default: 0] += 1
            listInvalid(
                summary,
                place + "event from rule \(rule) is older than the 5 days /track keeps "
                    + "(would be dead-lettered: too_old_for_track); use api: import")
        case .event(let event, let rule):
            summary.events += 1
            summary.eventsByRule[rule, default: 0] += 1
            var out = pass.bytes
            encoder.append(event, to: &out)
            out.write(UInt8(ascii: "\n"))
        case .invalid(let rule, let problems):
            summary.invalid += 1
            summary.invalidByReason[problems.first?.field ?? "invalid", default: 0] += 1
            listInvalid(
                summary,
                place + "invalid event from rule \(rule) (would be dead-lettered): "
                    + problems.map(\.description).joined(separator: "; "))
        }
    }

    /// Invalid events listed one by one before the summary; the rest only counted there (a real
    /// log can hold thousands), unless `--explain` lists every line anyway.
    public static let invalidListed = 20

    private func listInvalid(_ summary: Summary, _ text: String) {
        if explain || summary.invalid <= Self.invalidListed { err(text) }
    }
}
