import Foundation
import Logging
import Testing

@testable import Tailship

/// A multi transport that answers every request on the next poll (the first answer only once
/// `holdFirst` requests have started), with the next status of its script (then 200), and
/// records, for each request, when it started and how many were outstanding counting it.
final class ScriptedTransport: MultiTransport, @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `condition`.
    struct Start {
        var time: Date
        var events: Int
        var outstanding: Int
        /// Answers given before it started.
        var answeredBefore: Int
    }

    private let condition = NSCondition()
    private var script: [Int]
    private var started: [(tag: Int, events: Int)] = []
    private var answered = 0
    private var woken = false
    private var starts: [Start] = []
    private let holdFirst: Int

    init(script: [Int] = [], holdFirst: Int = 1) {
        self.script = script
        self.holdFirst = holdFirst
    }

    var log: [Start] { condition.withLock { starts } }

    func start(_ request: HTTPRequest, tag: Int) {
        let events = (try? Self.count(request.body)) ?? 0
        condition.withLock {
            started.append((tag, events))
            starts.append(Start(time: Date(), events: events, outstanding: started.count, answeredBefore: answered))
            condition.broadcast()
        }
    }

    func poll(timeoutMs: Int) -> [(tag: Int, result: Result<HTTPResponse, TransportError>)] {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: Double(timeoutMs) / 1000)
        func answerable() -> Bool { !started.isEmpty && starts.count >= holdFirst }
        while !answerable() && !woken {
            if !condition.wait(until: deadline) { break }
        }
        woken = false
        guard answerable() else { return [] }
        let done = started.map { request in
            let status = script.isEmpty ? 200 : script.removeFirst()
            let body =
                status == 200
                ? #"{"code":200,"num_records_imported":\#(request.events),"status":"OK"}"#
                : #"{"code":429,"error":"Project exceeded rate limits.","status":"Too Many Requests"}"#
            return (
                tag: request.tag,
                result: Result<HTTPResponse, TransportError>.success(
                    HTTPResponse(status: status, body: Array(body.utf8)))
            )
        }
        answered += started.count
        started.removeAll()
        return done
    }

    func cancelAll() {
        condition.withLock { started.removeAll() }
    }

    func wakeup() {
        condition.withLock {
            woken = true
            condition.broadcast()
        }
    }

    /// Events in a gzip JSON-array body.
    private static func count(_ body: [UInt8]) throws -> Int {
        let json = try JSONSerialization.jsonObject(with: Data(Gzip.gunzip(body)))
        return (json as? [Any])?.count ?? 0
    }
}

/// The delivery loop's pacing over a scripted transport: the rate budget and the in-flight limit
/// that follows 429s.
@Suite struct ShipPacingTests {
    static func shipper(
        _ transport: ScriptedTransport, _ recorder: AckRecorder, maxInFlight: Int, maxEvents: Int,
        maxEventsPerSecond: Int? = nil
    ) throws -> Shipper {
        var logger = Logger(label: "ship-test")
        logger.logLevel = .critical
        var destination = ShipShipperTests.destination("http://127.0.0.1:9", maxEvents: maxEvents)
        destination.maxInFlight = maxInFlight
        destination.maxEventsPerSecond = maxEventsPerSecond
        destination.retry = RetryConfig(initialBackoffMs: 20, maxBackoffMs: 100)
        let shipper = Shipper(
            destination: destination, credentials: ShipShipperTests.credentials,
            stateDir: FileManager.default.temporaryDirectory.path, logger: logger,
            tuning: ShipperTuning(jitterMs: 0...0), transportFactory: { _ in transport }, acknowledgements: recorder)
        try shipper.start()
        return shipper
    }

    /// 300 events at 100/s in batches of 10: the first second's worth at once, the rest paced,
    /// so by any moment t at most 100 + 100 × t events were sent, and it takes about 2 s.
    @Test func requestsKeepToMaxEventsPerSecond() throws {
        let transport = ScriptedTransport()
        let recorder = AckRecorder()
        let began = Date()
        let shipper = try Self.shipper(transport, recorder, maxInFlight: 4, maxEvents: 10, maxEventsPerSecond: 100)
        shipper.submit((0..<300).map { ShipShipperTests.pending($0) })
        shipper.flush()
        #expect(recorder.wait(for: 300, timeout: 10))
        let took = Date().timeIntervalSince(began)
        #expect(shipper.stop(deadline: .now + .seconds(5)))
        var sent = 0
        for start in transport.log {
            sent += start.events
            let allowed = 100 + 100 * start.time.timeIntervalSince(began)
            #expect(Double(sent) <= allowed + 0.5, "\(sent) events sent \(start.time.timeIntervalSince(began)) s in")
        }
        #expect(sent == 300, "each event sent once")
        #expect(took >= 1.9 && took < 4, "200 events past the burst at 100/s: about 2 s, took \(took)")
        #expect(recorder.segments(.accepted) == (0..<300).map(UInt64.init))
    }

    /// Four requests refused together with 429 cut the limit once, to 2; answers under the new
    /// limit grow it back to 3 and then 4. Every event is acknowledged once.
    @Test func the429sHalveTheRequestsInFlightAndAnswersGrowThemBack() throws {
        let transport = ScriptedTransport(script: [429, 429, 429, 429], holdFirst: 4)
        let recorder = AckRecorder()
        let shipper = try Self.shipper(transport, recorder, maxInFlight: 4, maxEvents: 1)
        #expect(shipper.depth.inFlightLimit == 4)
        shipper.submit((0..<40).map { ShipShipperTests.pending($0) })
        shipper.flush()
        #expect(recorder.wait(for: 40, timeout: 10))
        #expect(shipper.stop(deadline: .now + .seconds(5)))
        let log = transport.log
        #expect(log.count == 44, "40 batches and the 4 refused ones again")
        #expect(log.prefix(4).map(\.outstanding) == [1, 2, 3, 4], "max_in_flight at first")
        // The four refused batches are due together, yet at most 2 go at once (the cut); 3 after
        // two answers under the new limit, 4 after three more.
        let after = log.filter { $0.answeredBefore >= 4 }
        let outstanding = after.map(\.outstanding)
        #expect(after.filter { $0.answeredBefore < 6 }.map(\.outstanding).max() == 2, "\(outstanding)")
        #expect(after.filter { $0.answeredBefore < 9 }.map(\.outstanding).max()! <= 3, "\(outstanding)")
        #expect(shipper.depth.inFlightLimit == 4, "grown back to max_in_flight")
        #expect(recorder.segments(.accepted) == (0..<40).map(UInt64.init))
    }
}
