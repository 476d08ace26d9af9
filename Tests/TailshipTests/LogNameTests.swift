import Foundation
import Logging
import Testing

@testable import Tailship

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
        let recorder = CapturingLogHandler()
        let logger = Logger(label: "test") { _ in recorder }
        logger.info(.agentStarted)
        logger.warning(.shipDeliveryFailed, "retrying")
        #expect(recorder.messages.withLock { $0 } == ["agent.started", "ship.delivery_failed: retrying"])
    }
}
