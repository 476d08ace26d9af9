import Foundation
import Synchronization
import Testing

@testable import Tailship

/// The small replacements for Foundation-only API that let the binary link FoundationEssentials
/// alone, checked against the Foundation originals where there is one.
@Suite struct SupportFoundationFreeTests {
    /// The binary links FoundationEssentials only (no ICU: docs/benchmarks.md, the footprint):
    /// one `import Foundation` in a source file would link all of Foundation back in, so the
    /// only ones allowed are the fallbacks of `#if canImport(FoundationEssentials)`.
    @Test func sourcesImportFoundationOnlyAsTheFallback() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }
        #expect(files.count > 50)
        for file in files {
            let lines = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
            for (n, line) in lines.enumerated()
            where line.hasPrefix("import") && line.split(separator: " ").dropFirst().first == "Foundation" {
                #expect(
                    n > 0 && lines[n - 1] == "#else",
                    "\(file): import Foundation outside a FoundationEssentials fallback")
            }
            #expect(
                !lines.contains { $0.hasPrefix("import struct Foundation") || $0.hasPrefix("import class Foundation") })
        }
    }

    @Test func fixedMatchesStringFormat() {
        for value in [0, 0.04, 0.05, 0.96, 1, 1.25, 2.5, 12.345, 99.99, 123_456.7, 3.0e9] {
            #expect(TextOutput.fixed(value, digits: 1) == String(format: "%.1f", value), "\(value)")
            #expect(TextOutput.fixed(value + 0.001, digits: 2) == String(format: "%.2f", value + 0.001), "\(value)")
        }
        #expect(TextOutput.fixed(3.7, digits: 0) == "4")
        #expect(TextOutput.fixed(-1.25, digits: 1) == "-1.2")
        #expect(
            TextOutput.fixed(1e300, digits: 2).hasPrefix("1e+300")
                || TextOutput.fixed(1e300, digits: 2).hasPrefix("1.0e+300"))
    }

    @Test func trimmingMatchesFoundation() {
        for text in ["", " ", "\t a b \n", "\n\r\n", "12\n", "  x", "x  ", "\u{2003}x\u{2028}", "a\u{00A0}"] {
            #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(text)")
        }
        #expect(" a \n".trimmingWhitespace(newlines: false) == "a \n")
        #expect("\t a b ".trimmingWhitespace(newlines: false) == "a b")
    }

    @Test func httpDatesMatchFoundation() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        for seconds in stride(from: Int64(0), to: 4_102_444_800, by: 86_400 * 37 + 3_599) {
            let text = formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
            #expect(HTTPDate.seconds(Substring(text)) == seconds, "\(text)")
        }
        // The two obsolete forms recipients must accept too (RFC 9110 5.6.7), with the RFC's example.
        let rfc850 = DateFormatter()
        rfc850.locale = Locale(identifier: "en_US_POSIX")
        rfc850.timeZone = TimeZone(identifier: "GMT")
        rfc850.dateFormat = "EEEE, dd-MMM-yy HH:mm:ss 'GMT'"
        let asctime = DateFormatter()
        asctime.locale = Locale(identifier: "en_US_POSIX")
        asctime.timeZone = TimeZone(identifier: "GMT")
        asctime.dateFormat = "EEE MMM d HH:mm:ss yyyy"
        for seconds in stride(from: Int64(0), to: 4_102_444_800, by: 86_400 * 41 + 1_234) {
            let date = Date(timeIntervalSince1970: Double(seconds))
            #expect(HTTPDate.seconds(Substring(rfc850.string(from: date)), nowSeconds: seconds) == seconds)
            // asctime pads a one-digit day with a space: `Sun Nov  6 08:49:37 1994`.
            var text = asctime.string(from: date)
            let fields = text.split(separator: " ")
            if fields[2].count == 1 { text = "\(fields[0]) \(fields[1])  \(fields[2]) \(fields[3]) \(fields[4])" }
            #expect(HTTPDate.seconds(Substring(text)) == seconds, "\(text)")
        }
        #expect(HTTPDate.seconds("Sunday, 06-Nov-94 08:49:37 GMT", nowSeconds: 1_796_000_000) == 784_111_777)
        #expect(HTTPDate.seconds("Sun Nov  6 08:49:37 1994") == 784_111_777)
        // A two-digit year more than 50 years ahead is the last past year with those digits.
        let end2026: Int64 = 1_798_675_200  // 2026-12-31
        #expect(HTTPDate.seconds("Wednesday, 01-Jan-76 00:00:00 GMT", nowSeconds: end2026) == 3_345_062_400)  // 2076
        #expect(HTTPDate.seconds("Saturday, 01-Jan-77 00:00:00 GMT", nowSeconds: end2026) == 220_924_800)  // 1977
        for text in ["Sun, 06-Nov-94 08:49:37 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun Nov 6 08:49:37 94"] {
            #expect(HTTPDate.seconds(Substring(text)) == nil, "\(text)")
        }
        for text in [
            "", "Wed, 21 Oct 2015 07:28:30", "Wed, 32 Oct 2015 07:28:30 GMT", "Wed, 21 Okt 2015 07:28:30 GMT",
            "Wed, 21 Oct 2015 24:00:00 GMT", "Wed, 21 Oct 2015 07:28 GMT", "Wed, 30 Feb 2015 07:28:30 GMT",
            "Wed 21 Oct 2015 07:28:30 GMT", "Wed, 21 Oct 2015 07:28:30 PST",
        ] {
            #expect(HTTPDate.seconds(Substring(text)) == nil, "\(text)")
        }
    }

    /// The wait is on CLOCK_MONOTONIC: its deadline is a monotonic time (seconds since boot), which
    /// on a condition variable using the wall clock would lie decades in the past and end the
    /// 50 ms wait at once.
    @Test func conditionWaitTimesOutAtItsDeadlineAndWakesOnSignal() {
        let condition = Condition()
        let start = Date()
        condition.lock()
        let signalled = condition.wait(until: .now + .milliseconds(50))
        condition.unlock()
        #expect(!signalled)
        #expect(Date().timeIntervalSince(start) >= 0.045)
        condition.lock()
        #expect(!condition.wait(until: .now - .seconds(1)))
        condition.unlock()

        final class Flag: Sendable { let value = Atomic<Bool>(false) }
        let flag = Flag()
        OwnedThread.start(name: "test-signal") {
            usleep(20_000)
            condition.lock()
            flag.value.store(true, ordering: .relaxed)
            condition.broadcast()
            condition.unlock()
        }
        condition.lock()
        while !flag.value.load(ordering: .relaxed) {
            guard condition.wait(until: .now + .seconds(5)) else { break }
        }
        condition.unlock()
        let woken = flag.value.load(ordering: .relaxed)
        #expect(woken)
    }

    /// Stage threads carry their names into /proc (benchmarks and `top -H` read them), cut at
    /// the kernel's 15 bytes.
    @Test func ownedThreadsAreNamedInProc() throws {
        let ready = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        OwnedThread.start(name: "tailship-checkpoint") {
            ready.signal()
            release.wait()
        }
        ready.wait()
        defer { release.signal() }
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
        let names = tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
        #expect(names.contains("tailship-checkp\n"))
    }
}
