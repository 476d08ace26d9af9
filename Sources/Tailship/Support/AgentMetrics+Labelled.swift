/// The counters `/metrics` shows with labels (per source, per rule, per reason, per status)
/// and those of the API shipper. Like the others they live as long as the process: a reload
/// builds a new pipeline but keeps counting into the same object.
struct LabelledCounts: Sendable {
    struct RuleKey: Hashable, Sendable {
        var source: String
        var rule: String
    }

    var linesRead: [String: Int] = [:]
    var bytesRead: [String: Int] = [:]
    var eventsProduced: [RuleKey: Int] = [:]
    var deadLettered: [DeadLetter.Reason: Int] = [:]
    var responses: [Int: Int] = [:]
    var transportErrors = 0
    var batchesSent = 0
    var eventsSent = 0
    var batchesAccepted = 0
    var eventsAccepted = 0
    var retries = 0
}

extension AgentMetrics {
    /// One read chunk of `source`: its lines, its bytes and the events each rule made of them.
    func addRead(source: String, lines: Int, bytes: Int, produced: [String: Int]) {
        guard lines > 0 || bytes > 0 || !produced.isEmpty else { return }
        labelled.withLock { counts in
            counts.linesRead[source, default: 0] += lines
            counts.bytesRead[source, default: 0] += bytes
            for (rule, count) in produced {
                counts.eventsProduced[LabelledCounts.RuleKey(source: source, rule: rule), default: 0] += count
            }
        }
    }

    /// Dead letters written (by either writer), counted by reason.
    func addDeadLettered(_ letters: [DeadLetter]) {
        guard !letters.isEmpty else { return }
        labelled.withLock { counts in
            for letter in letters { counts.deadLettered[letter.reason, default: 0] += 1 }
        }
    }

    /// A batch request started: `retry` for a repeated attempt, else a batch sent for the first time.
    func addRequest(events: Int, retry: Bool) {
        labelled.withLock { counts in
            if retry {
                counts.retries += 1
            } else {
                counts.batchesSent += 1
                counts.eventsSent += events
            }
        }
    }

    /// An answer from the API (its status code), or nil for a request that got none.
    func addResponse(status: Int?) {
        labelled.withLock { counts in
            if let status { counts.responses[status, default: 0] += 1 } else { counts.transportErrors += 1 }
        }
    }

    /// A batch answered with success for `events` of its events.
    func addAccepted(events: Int) {
        labelled.withLock { counts in
            counts.batchesAccepted += 1
            counts.eventsAccepted += events
        }
    }

    func labelledSnapshot() -> LabelledCounts { labelled.withLock { $0 } }
}
