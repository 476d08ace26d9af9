import CCurl
import Synchronization

/// A blocking `HTTPTransport` over the same libcurl machinery the shipper uses
/// (`CurlMultiTransport` with one transfer at a time): one request per `post`, the
/// connection kept alive between calls. For one-off requests and for testing the libcurl
/// layer; the shipper itself drives `CurlMultiTransport` directly.
/// Blocking: call it from a thread you own, never from the concurrency pool.
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    // @unchecked: `post` is used by one thread at a time; `abort()` from other threads only
    // flips the atomic flag and wakes the multi handle, both thread-safe.
    private let multi: CurlMultiTransport
    private let aborted = Atomic<Bool>(false)

    /// Creates a transport; `caFile` is an optional PEM bundle that replaces the system CAs.
    public init(caFile: String? = nil) throws(TransportError) {
        multi = try CurlMultiTransport(maxInFlight: 1, caFile: caFile)
    }

    /// Sends the POST; see `HTTPTransport.post(_:)`.
    public func post(_ request: HTTPRequest) -> Result<HTTPResponse, TransportError> {
        multi.start(request, tag: 0)
        while !aborted.load(ordering: .acquiring) {
            // Bounded waits, so an abort is seen even if its wakeup raced ahead of the poll.
            if let finished = multi.poll(timeoutMs: 200).first { return finished.result }
        }
        multi.cancelAll()
        return .failure(
            TransportError(
                kind: .aborted, code: Int(CURLE_ABORTED_BY_CALLBACK.rawValue),
                message: "transport aborted"))
    }

    /// Aborts the transfer in progress and every later one.
    public func abort() {
        aborted.store(true, ordering: .releasing)
        multi.wakeup()
    }
}
