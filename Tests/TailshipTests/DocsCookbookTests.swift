import Foundation
import Testing

@testable import Tailship

/// Every example of docs/rules.md's cookbook (a fenced `yaml` block starting `# cookbook:`) is a
/// source with its `tests:`: each is loaded as `check` loads a configuration and its tests must
/// all pass, so the docs cannot drift from the binary.
@Suite struct DocsCookbookTests {
    static var rulesDoc: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/rules.md").path
    }

    /// The cookbook blocks, in order.
    static func examples() throws -> [String] {
        let text = try String(contentsOfFile: rulesDoc, encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```yaml" {
                current = []
            } else if current != nil, line == "```" {
                if let block = current, block.first?.hasPrefix("# cookbook:") == true {
                    blocks.append(block.joined(separator: "\n"))
                }
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    @Test func everyExampleRunsAndItsTestsPass() throws {
        let examples = try Self.examples()
        #expect(examples.count >= 5, "the cookbook has its examples")
        let dir = NSTemporaryDirectory() + "cookbook-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for example in examples {
            let title = example.split(separator: "\n")[0]
            let indented = example.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
            let config =
                "state_dir: \(dir)/state\ndestination: { kind: stdout }\nsources:\n"
                + indented.joined(separator: "\n") + "\n"
            try config.write(toFile: dir + "/agent.yaml", atomically: true, encoding: .utf8)
            let plan: AgentPlan
            do {
                plan = try AgentPlan.load(path: dir + "/agent.yaml", environment: [:])
            } catch {
                Issue.record("\(title): \(error)")
                continue
            }
            let report = plan.runRuleTests()
            #expect(report.failures.isEmpty, "\(title): \(report.failures)")
            #expect(report.passed == plan.config.sources.reduce(0) { $0 + $1.tests.count } && report.passed > 0)
        }
    }
}
