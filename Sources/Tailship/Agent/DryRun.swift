import Foundation

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
        public var lines = 0
        public var events = 0
        public var invalid = 0

        public init() {}
    }

    let source: SourceConfig
    let engine: RuleEngine
    let encoder: EventEncoder
    let explain: Bool
    let out: (String) -> Void
    let err: (String) -> Void

    public init(
        plan: AgentPlan, sourceIndex: Int, explain: Bool, out: @escaping (String) -> Void,
        err: @escaping (String) -> Void
    ) {
        self.source = plan.config.sources[sourceIndex]
        self.engine = plan.engines[sourceIndex]
        self.encoder = EventEncoder(token: plan.config.destination.api == .track ? plan.credentials.token : nil)
        self.explain = explain
        self.out = out
        self.err = err
    }

    /// Processes every line of `input`; throws when the input cannot be read.
    public func run(_ input: Input, summary: inout Summary) throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        switch input {
        case .file(let path):
            // The file's real identity, so default `$insert_id`s equal what `run` would send.
            let identity =
                try FileIdentity.compute(for: ReadableFile(path: path))
                ?? FileIdentity(device: 0, inode: 0, fingerprint: 0, fingerprintLength: 0)
            var number = 0
            try Tailer.readOnce(path: path, maxLineBytes: source.maxLineBytes) { batch in
                for line in batch {
                    number += 1
                    handle(line, name: path, number: number, identity: identity, now: now, summary: &summary)
                }
            }
        case .standardInput:
            let identity = FileIdentity(device: 0, inode: 0, fingerprint: 0, fingerprintLength: 0)
            var splitter = LineSplitter(startOffset: 0, maxLineBytes: source.maxLineBytes)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
            defer { buffer.deallocate() }
            var number = 0
            let body: (LineBatch) -> Void = { batch in
                for line in batch {
                    number += 1
                    handle(line, name: "stdin", number: number, identity: identity, now: now, summary: &summary)
                }
            }
            while true {
                let count = read(STDIN_FILENO, buffer.baseAddress, buffer.count)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                splitter.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), body)
            }
            splitter.flush(body)
        }
    }

    private func handle(
        _ line: Line, name: String, number: Int, identity: FileIdentity, now: Int64,
        summary: inout Summary
    ) {
        summary.lines += 1
        let outcome = engine.process(line: line.bytes, identity: identity, offset: line.offset, nowMs: now)
        if explain {
            var text = "\(name):\(number): "
            switch outcome {
            case .event(_, let rule): text += "rule \(rule) produced an event"
            case .dropped(let rule): text += "rule \(rule) matched and drops the line"
            case .unmatched, .limitHit: text += "no rule matched"
            case .invalid(let rule, _): text += "rule \(rule) matched but its event is invalid"
            }
            if line.truncated { text += " (line cut at max_line_bytes)" }
            err(text)
            for trace in engine.explain(line: line.bytes, identity: identity, offset: line.offset, nowMs: now) {
                err("  \(trace)")
                if case .matched = trace.verdict { break }
                if case .dropped = trace.verdict { break }
                if case .invalid = trace.verdict { break }
            }
        }
        switch outcome {
        case .event(let event, _):
            summary.events += 1
            out(String(decoding: encoder.encode(event), as: UTF8.self))
        case .invalid(let rule, let problems):
            summary.invalid += 1
            err(
                "\(name):\(number): invalid event from rule \(rule) (would be dead-lettered): "
                    + problems.map(\.description).joined(separator: "; "))
        default:
            break
        }
    }
}
