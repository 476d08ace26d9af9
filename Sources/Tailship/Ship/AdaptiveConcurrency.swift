/// How many requests the delivery loop may have in flight: `max_in_flight`, halved on each
/// 429 (at least 1) and grown back by one after a window of answers that were not 429s
/// (as many as the current limit: additive increase per round trip, as in TCP's AIMD).
///
/// One burst of 429s is one signal: the requests in flight when the limit was cut were sent
/// under the old limit, so their 429s do not cut it again (each request is stamped with a
/// ticket when started; only a 429 for a request started after the last cut counts). Without
/// that, four requests refused together would take 4 straight to 1.
///
/// Likewise only answers to requests started after the last cut count towards growth: those
/// already in flight then say nothing about the new limit. Other failures (5xx, timeouts) say
/// nothing about the project's rate and change nothing. A value type without I/O or clock:
/// the loop logs and publishes the changes it returns.
struct AdaptiveConcurrency: Sendable {
    /// `max_in_flight`.
    let maximum: Int
    /// Requests allowed in flight now, 1...maximum.
    private(set) var limit: Int
    /// Answers other than 429 since the last change.
    private var successes = 0
    /// Tickets handed out so far; a request's ticket is the count when it started.
    private var tickets = 0
    /// Requests with a ticket below this were in flight at the last cut.
    private var cutAt = 0

    init(maximum: Int) {
        self.maximum = max(1, maximum)
        limit = self.maximum
    }

    /// A request starts; pass the ticket back with its answer.
    mutating func started() -> Int {
        tickets += 1
        return tickets
    }

    /// An answer that got through (anything but a 429, a 5xx or no answer) for the request
    /// stamped `ticket`: returns the new limit when it grew.
    mutating func succeeded(ticket: Int) -> Int? {
        guard limit < maximum, ticket > cutAt else { return nil }
        successes += 1
        guard successes >= limit else { return nil }
        successes = 0
        limit += 1
        return limit
    }

    /// A 429 for the request stamped `ticket`: returns the new limit when it was cut.
    mutating func rateLimited(ticket: Int) -> Int? {
        successes = 0
        guard ticket > cutAt, limit > 1 else { return nil }
        limit = max(1, limit / 2)
        cutAt = tickets
        return limit
    }
}
