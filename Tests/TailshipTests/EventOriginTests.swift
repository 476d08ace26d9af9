import Testing

@testable import Tailship

/// The events read from one file share one `OriginFile`; changing one origin's file fields
/// (a dead letter cut down to its cap) replaces its reference and leaves the others alone.
@Suite struct EventOriginTests {
    static let identity = FileIdentity(device: 1, inode: 2, fingerprint: 3, fingerprintLength: 4)

    @Test func originsShareTheirFileAndChangeOnlyTheirOwn() {
        let file = OriginFile(source: "app", path: "/var/log/app.log", identity: Self.identity)
        let first = EventOrigin(file: file, offset: 0, rule: "a", ack: AckHandle(file: 1, segment: 0))
        var second = EventOrigin(file: file, offset: 10, rule: "b", ack: AckHandle(file: 1, segment: 0))
        #expect(first.file === second.file)
        second.path = "/var/log/app.log.1"
        second.source = "cut"
        #expect(second.path == "/var/log/app.log.1" && second.source == "cut" && second.identity == Self.identity)
        #expect(first.path == "/var/log/app.log" && first.source == "app" && file.path == "/var/log/app.log")
        #expect(first.file === file && second.file !== file)
    }

    /// What an event waiting in a batch costs besides its JSON: its origin is a reference, an
    /// offset, the rule's name and the acknowledgement handle.
    @Test func anOriginIsSmall() {
        #expect(MemoryLayout<EventOrigin>.stride == 48)
    }

    /// A dead letter cut to its cap names a shortened path without touching the file's origin.
    @Test func aCutLetterLeavesTheSharedFileAlone() {
        let longPath = "/var/log/" + String(repeating: "p", count: 5000) + ".log"
        let file = OriginFile(source: "app", path: longPath, identity: Self.identity)
        let letter = DeadLetter(
            reason: .apiRejected, field: "", message: String(repeating: "m", count: 9000),
            origin: EventOrigin(file: file, offset: 0, rule: "r", ack: AckHandle(file: 1, segment: 0)), rawLine: nil,
            eventJSON: [], timeMs: 0)
        let cut = String(decoding: letter.line(limit: DeadLetter.cutLineBytes), as: UTF8.self)
        #expect(cut.utf8.count <= DeadLetter.cutLineBytes && cut.contains("\"truncated\":true"))
        #expect(file.path == longPath && letter.origin.path == longPath)
    }
}
