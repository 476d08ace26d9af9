import Foundation
import Logging
import Synchronization
import Testing

@testable import Tailship

/// A handler that keeps the rendered messages.
final class MessageRecorder: LogHandler, @unchecked Sendable {
    let messages = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.withLock { $0.append(event.message.description) }
    }
}

struct LogNameTests {
    static var operationsDoc: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("docs/operations.md"), encoding: .utf8)) ?? ""
    }

    @Test func namesAreDottedLowercaseAndUnique() {
        let names = LogName.allCases.map(\.rawValue)
        #expect(Set(names).count == names.count)
        for name in names {
            #expect(name.wholeMatch(of: /[a-z]+\.[a-z_]+/) != nil, "\(name) is not area.what_happened")
        }
    }

    @Test func operationsDocListsEveryName() {
        let doc = Self.operationsDoc
        #expect(!doc.isEmpty, "docs/operations.md not found")
        for name in LogName.allCases {
            #expect(doc.contains("`\(name.rawValue)`"), "docs/operations.md does not list `\(name.rawValue)`")
        }
    }

    @Test func theMessageIsTheNameThenTheDetail() {
        let recorder = MessageRecorder()
        let logger = Logger(label: "test") { _ in recorder }
        logger.info(.agentStarted)
        logger.warning(.shipDeliveryFailed, "retrying")
        #expect(recorder.messages.withLock { $0 } == ["agent.started", "ship.delivery_failed: retrying"])
    }
}
