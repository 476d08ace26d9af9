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
    let out: (String) -> Void
    let err: (String) -> Void

    public init(
        plan: AgentPlan, sourceIndex: Int, explain: Bool, out: @escaping (String) -> Void,
        err: @escaping (String) -> Void
    ) {
        self.source = plan.config.sources[sourceIndex]
        self.engine = plan.engines[sourceIndex]
        self.encoder = EventEncoder(token: plan.config.destination.api == .track ? plan.credentials.token : nil)
        self.isTrack = plan.config.destination.api == .track
        self.explain = explain
        self.out = out
        // The verdicts quote file names, field values and line text: a control character in
        // them is printed escaped, never raw to the terminal. The event JSON on `out` is
        // already escaped by the encoder.
        self.err = { err(SafeText.escapingControls($0)) }
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
        var number = 0
        let name: String
        switch input {
        case .file(let path): name = path
        case .standardInput: name = "stdin"
        }
        let body: (LineBatch) -> Void = { batch in
            for line in batch {
                number += 1
                handle(line, name: name, number: number, now: now, summary: &summary)
            }
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
        case .standardInput:
            var bytes = DescriptorBytes(STDIN_FILENO)
            _ = try splitter.read(from: &bytes, buffer: buffer, deliver: body)
        }
        // A file read once is complete: its last line counts even without a newline.
        splitter.flush(body)
        if source.multiline != nil { summary.linesInRecords = (summary.linesInRecords ?? 0) + splitter.linesFramed }
        return splitter.nextOffset
    }

    /// `10 lines, 9 events, 1 invalid (would be dead-lettered), 0 unmatched, 0 dropped`
    public static func counts(_ summary: Summary) -> String {
        let read = summary.linesInRecords.map { "\($0) lines in \(summary.lines) records" } ?? "\(summary.lines) lines"
        return "\(read), \(summary.events) events, \(summary.invalid) invalid (would be dead-lettered), "
            + "\(summary.unmatched) unmatched, \(summary.dropped) dropped"
    }

    private func handle(
        _ line: Line, name: String, number: Int, now: Int64,
        summary: inout Summary
    ) {
        summary.lines += 1
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
            err(
                place + "the pattern of '\(rule)' ran out of its match budget on this line "
                    + "(would be dead-lettered: match_limit)")
        case .dropped:
            summary.dropped += 1
        case .event(let event, let rule) where isTrack && event.timeMs < now - Shipper.trackMaxAgeMs:
            // `run` dead-letters it instead of sending it (see `Shipper.trackMaxAgeMs`).
            summary.invalid += 1
            summary.invalidByReason["too_old_for_track", default: 0] += 1
            err(
                place + "event from rule \(rule) is older than the 5 days /track keeps "
                    + "(would be dead-lettered: too_old_for_track); use api: import")
        case .event(let event, let rule):
            summary.events += 1
            summary.eventsByRule[rule, default: 0] += 1
            out(String(decoding: encoder.encode(event), as: UTF8.self))
        case .invalid(let rule, let problems):
            summary.invalid += 1
            summary.invalidByReason[problems.first?.field ?? "invalid", default: 0] += 1
            err(
                place + "invalid event from rule \(rule) (would be dead-lettered): "
                    + problems.map(\.description).joined(separator: "; "))
        }
    }
}
