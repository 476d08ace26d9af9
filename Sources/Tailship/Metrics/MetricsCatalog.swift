/// Every family `/metrics` shows, named once here (docs/operations.md lists them all; a test
/// checks that it does).
enum MetricsCatalog {
    static func families(
        counters: AgentMetrics, labelled: LabelledCounts, snapshot: MetricsExporter.Snapshot, stallAfterMs: Int64
    ) -> [MetricFamily] {
        typealias Sample = MetricFamily.Sample
        func total(_ counter: AgentMetrics.Counter) -> [Sample] { [Sample([], Double(counters.value(counter)))] }
        // Every configured source and rule shows from the start (at 0), and what was counted
        // under a source or rule a reload removed stays.
        var sourceNames = Set(labelled.linesRead.keys)
        var ruleKeys = Set(labelled.eventsProduced.keys)
        for source in snapshot.sources {
            sourceNames.insert(source.name)
            for rule in source.rules where !rule.drop {
                ruleKeys.insert(LabelledCounts.RuleKey(source: source.name, rule: rule.name.value))
            }
        }
        let sources = sourceNames.sorted()
        let rules = ruleKeys.sorted { ($0.source, $0.rule) < ($1.source, $1.rule) }
        let files = snapshot.files.sorted { ($0.path, $0.source) < ($1.path, $1.source) }
        func perFile(_ value: (FileWatches.Sample) -> Double?) -> [Sample] {
            files.compactMap { file in value(file).map { Sample([("path", file.path), ("source", file.source)], $0) } }
        }
        let reasons: [DeadLetter.Reason] = [
            .apiRejected, .tooLarge, .localValidation, .unconfirmed, .tooOldForTrack, .matchLimit,
        ]
        return [
            MetricFamily(
                "tailship_lines_read_total", .counter,
                "Complete lines (records, for a multiline source) read from files, by source.",
                sources.map { Sample([("source", $0)], Double(labelled.linesRead[$0] ?? 0)) }),
            MetricFamily(
                "tailship_bytes_read_total", .counter, "Bytes of complete lines read from files, by source.",
                sources.map { Sample([("source", $0)], Double(labelled.bytesRead[$0] ?? 0)) }),
            MetricFamily(
                "tailship_events_produced_total", .counter, "Events made by each rule and handed to the shipper.",
                rules.map {
                    Sample([("source", $0.source), ("rule", $0.rule)], Double(labelled.eventsProduced[$0] ?? 0))
                }),
            MetricFamily(
                "tailship_lines_unmatched_total", .counter, "Lines no rule matched.", total(.linesUnmatched)),
            MetricFamily(
                "tailship_lines_dropped_total", .counter, "Lines matched by a drop rule.", total(.linesDropped)),
            MetricFamily(
                "tailship_lines_truncated_total", .counter,
                "Lines longer than max_line_bytes, or records past a multiline limit, cut.",
                total(.linesTruncated)),
            MetricFamily(
                "tailship_lines_match_limit_total", .counter,
                "Lines on which a pattern ran out of its match budget (dead-lettered as match_limit).",
                total(.linesLimitHit)),
            MetricFamily(
                "tailship_events_invalid_total", .counter,
                "Events that failed the API's rules locally (dead-lettered as local_validation).",
                total(.eventsInvalid)),
            MetricFamily(
                "tailship_events_dead_lettered_total", .counter, "Events written to the dead-letter file, by reason.",
                reasons.map { Sample([("reason", $0.rawValue)], Double(labelled.deadLettered[$0] ?? 0)) }),
            MetricFamily(
                "tailship_events_delivered_total", .counter,
                "Events the destination took (accepted by the API, or written by the stdout and file destinations).",
                total(.eventsDelivered)),
            MetricFamily(
                "tailship_batches_sent_total", .counter, "Batches sent to the API for the first time (not retries).",
                [Sample([], Double(labelled.batchesSent))]),
            MetricFamily(
                "tailship_events_sent_total", .counter, "Events in the batches sent to the API (not retries).",
                [Sample([], Double(labelled.eventsSent))]),
            MetricFamily(
                "tailship_batches_accepted_total", .counter, "Batches the API accepted, wholly or partly.",
                [Sample([], Double(labelled.batchesAccepted))]),
            MetricFamily(
                "tailship_events_accepted_total", .counter, "Events the API accepted.",
                [Sample([], Double(labelled.eventsAccepted))]),
            MetricFamily(
                "tailship_http_responses_total", .counter, "Answers from the API, by HTTP status code.",
                labelled.responses.keys.sorted().map { Sample([("code", "\($0)")], Double(labelled.responses[$0]!)) }),
            MetricFamily(
                "tailship_http_request_errors_total", .counter,
                "Requests that got no answer (timeout, connection or TLS failure).",
                [Sample([], Double(labelled.transportErrors))]),
            MetricFamily(
                "tailship_retries_total", .counter, "Batch requests repeated after a failure.",
                [Sample([], Double(labelled.retries))]),
            MetricFamily(
                "tailship_requests_in_flight", .gauge, "Requests to the API in flight now.",
                [Sample([], Double(snapshot.shipperDepth.inFlight))]),
            MetricFamily(
                "tailship_requests_in_flight_limit", .gauge,
                "Requests allowed in flight now: max_in_flight, halved on each 429 and grown back after answers that are not.",
                [Sample([], Double(snapshot.shipperDepth.inFlightLimit))]),
            MetricFamily(
                "tailship_queue_events", .gauge, "Events waiting in the shipping queue.",
                [Sample([], Double(snapshot.shipperDepth.events))]),
            MetricFamily(
                "tailship_queue_bytes", .gauge, "Estimated bytes of the events waiting in the shipping queue.",
                [Sample([], Double(snapshot.shipperDepth.bytes))]),
            MetricFamily(
                "tailship_file_bytes_behind", .gauge, "Bytes of each open file past its checkpoint.",
                perFile { file in file.bytesBehind.map { Double($0) } }),
            MetricFamily(
                "tailship_file_seconds_since_read", .gauge,
                "Seconds since lines were last read from each open file (or since it was first seen).",
                perFile { $0.secondsSinceRead }),
            MetricFamily(
                "tailship_file_stalled", .gauge,
                "1 when a file has bytes past its checkpoint and the checkpoint has not moved for unhealthy_after.",
                perFile { ($0.behindForMs ?? -1) >= stallAfterMs ? 1 : 0 }),
            MetricFamily(
                "tailship_checkpoint_age_seconds", .gauge, "Seconds since the checkpoints were last saved.",
                [Sample([], snapshot.checkpointAgeSeconds)]),
            MetricFamily(
                "tailship_healthy", .gauge, "1 when /healthz answers 200, else 0.",
                [Sample([], snapshot.problem == nil ? 1 : 0)]),
            MetricFamily(
                "tailship_build_info", .gauge, "The running version, as a label; always 1.",
                [Sample([("version", TailshipVersion.current)], 1)]),
        ]
    }
}
