import Testing

@testable import Tailship

/// The rate limit of warnings that repeat per turn for the same cause (`tail.open_failed`,
/// `tail.watch_failed`), with the clock passed in.
struct TailRepeatedProblemsTests {
    @Test func saidOnceThenEveryIntervalWithTheCountThenAgainWhenTheCauseChanges() {
        var problems = RepeatedProblems<String>(interval: .seconds(300))
        let start = ContinuousClock.now
        func occur(_ key: String, _ cause: String, at seconds: Int, wallMs: Int64) -> Int? {
            problems.occurred(key, cause: cause, now: start + .seconds(seconds), wallMs: wallMs)
        }
        func resolve(_ key: String) -> Bool { problems.resolved(key) }
        // The first occurrence is said, with nothing suppressed.
        #expect(occur("a", "EACCES", at: 0, wallMs: 1000) == 0)
        // Every 10 s for 4 minutes 50 s: silent.
        for step in 1...29 {
            #expect(occur("a", "EACCES", at: 10 * step, wallMs: 2000) == nil)
        }
        // Another path is a problem of its own.
        #expect(occur("b", "EACCES", at: 20, wallMs: 3000) == 0)
        // Five minutes on: said again, with the 29 repeats not logged.
        #expect(occur("a", "EACCES", at: 300, wallMs: 4000) == 29)
        #expect(occur("a", "EACCES", at: 310, wallMs: 5000) == nil)
        // Another cause is said at once; the problem's first time stays.
        #expect(occur("a", "ELOOP", at: 320, wallMs: 6000) == 0)
        #expect(problems.problems["a"]?.sinceMs == 1000 && problems.problems["a"]?.cause == "ELOOP")
        // Over: a recovery line is due once; the next failure is new again.
        #expect(resolve("a"))
        #expect(!resolve("a"))
        #expect(occur("a", "ELOOP", at: 330, wallMs: 7000) == 0)
        #expect(problems.problems["a"]?.sinceMs == 7000)
        problems.forget { $0 == "b" }
        #expect(problems.problems.keys.sorted() == ["a"])
    }
}
