import Foundation
import Testing

@Test func versionPrints() throws {
    let result = try TailshipProcess.run(["--version"])
    #expect(result.status == 0)
    #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
}
