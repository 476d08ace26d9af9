import Foundation
import Logging
import Synchronization
import Testing

@testable import Tailship

/// A multi transport that holds every request until the test opens the gate, then answers
/// 200. It sits below the real-server tests in ShipShipperTests: it only makes "the API is
/// stuck" deterministic.
final class GatedTransport: MultiTransport, @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `condition`.
    private let condition = NSCondition()
    private var open = false
    private var woken = false
    private var started: [Int] = []
    let requests = Atomic<Int>(0)

    func release() {
        condition.lock()
        open = true
        condition.broadcast()
        condition.unlock()
    }

    func start(_ request: HTTPRequest, tag: Int) {
        requests.add(1, ordering: .relaxed)
        condition.lock()
        started.append(tag)
        condition.unlock()
    }

    func poll(timeoutMs: Int) -> [(tag: Int, result: Result<HTTPResponse, TransportError>)] {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: Double(timeoutMs) / 1000)
        while !(open && !started.isEmpty) && !woken {
            if !condition.wait(until: deadline) { break }
        }
        woken = false
        guard open else { return [] }
        let done = started.map {
            (
                tag: $0,
                result: Result<HTTPResponse, TransportError>.success(
                    HTTPResponse(status: 200, body: Array(#"{"code":200,"num_records_imported":1,"status":"OK"}"#.utf8))
                )
            )
        }
        started.removeAll()
        return done
    }

    func cancelAll() {
        condition.lock()
        started.removeAll()
        condition.unlock()
    }

    func wakeup() {
        condition.lock()
        woken = true
        condition.broadcast()
        condition.unlock()
    }
}

@Suite struct ShipBackpressureTests {
    /// One event per batch, a queue of 2 test events' bytes, one request in flight, no jitter.
    static func shipper(_ transport: GatedTransport, _ recorder: AckRecorder) -> Shipper {
        var logger = Logger(label: "ship-test")
        logger.logLevel = .critical
        return Shipper(
            destination: ShipShipperTests.destination("http://127.0.0.1:9", maxEvents: 1),
            credentials: ShipShipperTests.credentials, stateDir: FileManager.default.temporaryDirectory.path,
            logger: logger,
            tuning: ShipperTuning(
                queueBytes: 2 * EncodedEvents([ShipShipperTests.pending(0)], encoder: EventEncoder()).bytes,
                jitterMs: 0...0),
            transportFactory: { _ in transport }, acknowledgements: recorder)
    }

    @Test func submitBlocksWhileTheQueueIsFullAndResumes() throws {
        let transport = GatedTransport()
        let recorder = AckRecorder()
        let shipper = Self.shipper(transport, recorder)
        try shipper.start()
        // Capacity (max_in_flight 1, gzip): 1 request in flight, 1 compressed batch waiting, 1 batch held by
        // the compression thread (waiting to hand it over), 1 closed batch waiting for it, 1 batch held by the
        // batching thread, 2 events' bytes queued. The 8th submit must block: exactly 7 of 10 got in.
        let submitted = Atomic<Int>(0)
        let reader = Thread {
            for i in 0..<10 {
                shipper.submit([ShipShipperTests.pending(i)])
                submitted.add(1, ordering: .relaxed)
            }
        }
        reader.start()
        Thread.sleep(forTimeInterval: 0.5)
        #expect(submitted.load(ordering: .relaxed) == 7)
        #expect(recorder.all.isEmpty)
        transport.release()
        #expect(recorder.wait(for: 10))
        #expect(submitted.load(ordering: .relaxed) == 10)
        #expect(shipper.stop(deadline: .now + .seconds(5)))
        #expect(recorder.segments(.accepted) == Array(0..<10))
    }

    /// The deadline form never waits past its deadline: `.full` with nothing taken, and
    /// `.stopped` once the shipper stops; what was accepted is still delivered in order.
    @Test func submitWithADeadlineReportsFullInsteadOfWaiting() throws {
        let transport = GatedTransport()
        let recorder = AckRecorder()
        let shipper = Self.shipper(transport, recorder)
        try shipper.start()
        var accepted = 0
        var full = false
        for i in 0..<8 {
            let started = Date()
            let result = shipper.submit([ShipShipperTests.pending(i)], until: .now + .milliseconds(50))
            #expect(Date().timeIntervalSince(started) < 1, "waited no longer than its deadline")
            if result == .full {
                full = true
                break
            }
            #expect(result == .accepted)
            accepted += 1
        }
        #expect(full, "the queue filled while the transport was held")
        #expect(accepted >= 2 && accepted < 8)
        transport.release()
        #expect(recorder.wait(for: accepted))
        #expect(recorder.segments(.accepted) == (0..<UInt64(accepted)).map { $0 })
        #expect(shipper.stop(deadline: .now + .seconds(5)))
        #expect(shipper.submit([ShipShipperTests.pending(99)], until: .now) == .stopped)
    }
}
