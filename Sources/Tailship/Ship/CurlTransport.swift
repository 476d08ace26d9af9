import CCurl
import Synchronization

/// The production `HTTPTransport`: libcurl with one easy handle reused across requests, so
/// the TLS connection to Mixpanel stays open between batches (keep-alive).
///
/// TLS peer and host verification are always on; `caFile` adds a private CA bundle.
/// Proxies come from the standard environment variables (`https_proxy`, `no_proxy`, ...),
/// which libcurl reads by itself as long as `CURLOPT_PROXY` is left unset, as here.
/// Blocking: call it from a thread the shipper owns, never from the concurrency pool.
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    // @unchecked: the easy handle is touched only by the one thread that calls `post`;
    // `abort()` from other threads only flips the atomic flag the progress callback reads.
    private let easy: CurlEasy
    private let caFile: String?
    private let aborted = AbortFlag()

    /// Creates a transport; `caFile` is an optional PEM bundle that replaces the system CAs.
    public init(caFile: String? = nil) throws(TransportError) {
        do {
            easy = try CurlEasy()
        } catch {
            throw error.transportError
        }
        self.caFile = caFile
    }

    /// Sends the POST; see `HTTPTransport.post(_:)`.
    public func post(_ request: HTTPRequest) -> Result<HTTPResponse, TransportError> {
        if aborted.isSet {
            return .failure(TransportError(kind: .aborted, code: Int(CURLE_ABORTED_BY_CALLBACK.rawValue),
                                           message: "transport aborted"))
        }
        let sink = ResponseSink()
        let headers = CurlHeaderList(request.headers + ["Expect:"])  // no 100-continue round trip
        let unmanagedSink = Unmanaged.passRetained(sink)
        defer { unmanagedSink.release() }
        do throws(CurlError) {
            try configure(request, headers: headers, sink: unmanagedSink.toOpaque())
            // POSTFIELDS does not copy: the bytes must stay valid until perform returns. An
            // empty body still needs a non-nil pointer, or libcurl would use a read callback.
            let size = request.body.count
            let payload = size == 0 ? [UInt8(0)] : request.body
            try easy.set(CURLOPT_POSTFIELDSIZE_LARGE, largeOffset: Int64(size))
            let performed: Result<Void, CurlError> = payload.withUnsafeBytes { body in
                Result { () throws(CurlError) in
                    try easy.set(CURLOPT_POSTFIELDS, pointer: body.baseAddress)
                    try easy.perform()
                }
            }
            try performed.get()
            let status = try easy.responseCode()
            return .success(HTTPResponse(status: status, headers: sink.headers, body: sink.body))
        } catch {
            return .failure(error.transportError)
        }
    }

    /// Aborts the transfer in progress and every later one.
    public func abort() {
        aborted.set()
    }

    private func configure(
        _ request: HTTPRequest, headers: CurlHeaderList, sink: UnsafeMutableRawPointer
    ) throws(CurlError) {
        try easy.set(CURLOPT_URL, string: request.url)
        try easy.set(CURLOPT_POST, 1)
        try easy.set(CURLOPT_HTTPHEADER, pointer: UnsafeRawPointer(headers.list))
        try easy.set(CURLOPT_NOSIGNAL, 1)  // no SIGALRM for DNS timeouts: we are multi-threaded
        try easy.set(CURLOPT_TIMEOUT_MS, request.timeoutMs)
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMs)
        try easy.set(CURLOPT_SSL_VERIFYPEER, 1)
        try easy.set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile { try easy.set(CURLOPT_CAINFO, string: caFile) }
        try easy.set(CURLOPT_FOLLOWLOCATION, 0)  // a redirect means a wrong URL: surface it
        try easy.set(CURLOPT_TCP_KEEPALIVE, 1)
        if let auth = request.basicAuth {
            try easy.set(CURLOPT_USERNAME, string: auth.user)
            try easy.set(CURLOPT_PASSWORD, string: auth.password)
        } else {
            try easy.set(CURLOPT_USERNAME, pointer: nil)
            try easy.set(CURLOPT_PASSWORD, pointer: nil)
        }
        try easy.setWriteCallback(CURLOPT_WRITEFUNCTION, ResponseSink.onBody)
        try easy.set(CURLOPT_WRITEDATA, pointer: UnsafeRawPointer(sink))
        try easy.setWriteCallback(CURLOPT_HEADERFUNCTION, ResponseSink.onHeader)
        try easy.set(CURLOPT_HEADERDATA, pointer: UnsafeRawPointer(sink))
        try easy.setProgressCallback(AbortFlag.onProgress)
        try easy.set(CURLOPT_XFERINFODATA, pointer: UnsafeRawPointer(Unmanaged.passUnretained(aborted).toOpaque()))
        try easy.set(CURLOPT_NOPROGRESS, 0)
    }
}

/// Set from any thread; read by libcurl's progress callback to abort a transfer.
private final class AbortFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }

    /// CURLOPT_XFERINFOFUNCTION: a non-zero return aborts with CURLE_ABORTED_BY_CALLBACK.
    static let onProgress: curl_xferinfo_callback = { context, _, _, _, _ in
        guard let context else { return 0 }
        return Unmanaged<AbortFlag>.fromOpaque(context).takeUnretainedValue().isSet ? 1 : 0
    }
}

/// Collects one response's body and header lines from libcurl's callbacks.
private final class ResponseSink {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []

    static let onBody: CurlEasy.DataCallback = {
        data, size, count, context in
        let length = size * count
        guard let data, let context else { return length }
        let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
        sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
        return length
    }

    static let onHeader: CurlEasy.DataCallback = {
        data, size, count, context in
        let length = size * count
        guard let data, let context else { return length }
        let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            sink.headers.removeAll()  // a new response block (after 100 Continue or a 1xx)
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t\r\n")
            sink.headers.append((name: name, value: value))
        }
        return length
    }
}

extension StringProtocol {
    /// Trims the given ASCII characters from both ends, without Foundation.
    fileprivate func trimmingCharacters(in set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let c = s.first, chars.contains(c) { s = s.dropFirst() }
        while let c = s.last, chars.contains(c) { s = s.dropLast() }
        return String(s)
    }
}
