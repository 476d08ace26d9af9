import CCurl

#if canImport(Glibc)
    import Glibc
#endif

/// The production `MultiTransport`: one libcurl multi handle driving up to `maxInFlight`
/// transfers. Easy handles are pooled and reused, and the multi handle's connection cache
/// keeps up to `maxInFlight` connections to the API open between batches (keep-alive).
///
/// TLS peer and host verification are always on; `caFile` replaces the system CA bundle.
/// Proxies come from the standard environment variables (`https_proxy`, `no_proxy`, ...),
/// which libcurl reads by itself as long as `CURLOPT_PROXY` is left unset, as here.
final class CurlMultiTransport: MultiTransport, @unchecked Sendable {
    // @unchecked: everything but `wakeup()` runs on the one delivery thread;
    // `curl_multi_wakeup` is documented as callable from any thread.
    private let multi: UnsafeMutableRawPointer
    private let caFile: String?
    private var idle: [Transfer] = []
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    /// Requests that failed before reaching libcurl, reported by the next `poll`.
    private var failedToStart: [(tag: Int, result: Result<HTTPResponse, TransportError>)] = []

    /// Creates the multi handle; `maxInFlight` caps connections to the host and the cache.
    init(maxInFlight: Int, caFile: String? = nil) throws(TransportError) {
        guard CurlGlobal.ensureInitialized(), let multi = curl_multi_init() else {
            throw TransportError(kind: .other, code: Int(CURLE_FAILED_INIT.rawValue), message: "curl_multi_init failed")
        }
        self.multi = multi
        self.caFile = caFile
        let limit = max(1, maxInFlight)
        _ = tailship_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, limit)
        _ = tailship_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, limit)
    }

    deinit {
        cancelAll()
        curl_multi_cleanup(multi)
    }

    func start(_ request: HTTPRequest, tag: Int) {
        let transfer: Transfer
        do throws(CurlError) {
            if let reused = idle.popLast() { transfer = reused } else { transfer = try Transfer() }
            transfer.tag = tag
        } catch {
            failedToStart.append((tag: tag, result: .failure(error.transportError)))
            return
        }
        do throws(CurlError) {
            try transfer.configure(request, caFile: caFile)
            let rc = curl_multi_add_handle(multi, transfer.easy.handle)
            guard rc == CURLM_OK else {
                throw CurlError(code: CURLE_FAILED_INIT, detail: String(cString: curl_multi_strerror(rc)))
            }
            active[transfer.easy.handle] = transfer
        } catch {
            transfer.reset()
            idle.append(transfer)
            failedToStart.append((tag: tag, result: .failure(error.transportError)))
        }
    }

    func poll(timeoutMs: Int) -> [(tag: Int, result: Result<HTTPResponse, TransportError>)] {
        var done = failedToStart
        failedToStart.removeAll()
        drive(into: &done)
        if done.isEmpty {
            var numfds: Int32 = 0
            if curl_multi_poll(multi, nil, 0, Int32(clamping: max(0, timeoutMs)), &numfds) != CURLM_OK {
                // Out of memory or a broken wakeup pipe: do not spin.
                usleep(UInt32(min(max(0, timeoutMs), 100)) * 1000)
            }
            drive(into: &done)
        }
        return done
    }

    func cancelAll() {
        for (handle, transfer) in active {
            curl_multi_remove_handle(multi, handle)
            transfer.reset()
            idle.append(transfer)
        }
        active.removeAll()
        failedToStart.removeAll()
    }

    func wakeup() {
        _ = curl_multi_wakeup(multi)
    }

    /// `curl_multi_perform`, then collects finished transfers (`curl_multi_info_read`).
    private func drive(into done: inout [(tag: Int, result: Result<HTTPResponse, TransportError>)]) {
        var running: Int32 = 0
        _ = curl_multi_perform(multi, &running)
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                let transfer = active.removeValue(forKey: handle)
            else { continue }
            let code = message.pointee.data.result
            curl_multi_remove_handle(multi, handle)
            done.append((tag: transfer.tag, result: transfer.result(code)))
            transfer.reset()
            idle.append(transfer)
        }
    }
}

/// One reusable easy handle with its response sink and header list.
private final class Transfer {
    let easy: CurlEasy
    let sink = ResponseSink()
    private var headers: CurlHeaderList?
    var tag = 0

    init() throws(CurlError) {
        easy = try CurlEasy()
    }

    func configure(_ request: HTTPRequest, caFile: String?) throws(CurlError) {
        sink.reset()
        easy.clearError()
        let list = CurlHeaderList(request.headers + ["Expect:"])  // no 100-continue round trip
        headers = list
        try easy.set(CURLOPT_URL, string: request.url)
        try easy.set(CURLOPT_POST, 1)
        try easy.set(CURLOPT_HTTPHEADER, pointer: UnsafeRawPointer(list.list))
        try easy.set(CURLOPT_NOSIGNAL, 1)  // no SIGALRM for DNS timeouts: we are multi-threaded
        try easy.set(CURLOPT_TIMEOUT_MS, request.timeoutMs)
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMs)
        try easy.set(CURLOPT_SSL_VERIFYPEER, 1)
        try easy.set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile { try easy.set(CURLOPT_CAINFO, string: caFile) }
        try easy.set(CURLOPT_FOLLOWLOCATION, 0)  // a redirect means a wrong URL: surface it
        try easy.set(CURLOPT_TCP_KEEPALIVE, 1)
        // An answer is a few hundred bytes; one announcing more is refused before its body is
        // read, and the write callback stops any other at the same cap (chunked, or lying).
        try easy.set(CURLOPT_MAXFILESIZE_LARGE, largeOffset: Int64(ResponseSink.maxBodyBytes))
        if let auth = request.basicAuth {
            try easy.set(CURLOPT_USERNAME, string: auth.user)
            try easy.set(CURLOPT_PASSWORD, string: auth.password)
        } else {
            try easy.set(CURLOPT_USERNAME, pointer: nil)
            try easy.set(CURLOPT_PASSWORD, pointer: nil)
        }
        let context = UnsafeRawPointer(Unmanaged.passUnretained(sink).toOpaque())
        try easy.setWriteCallback(CURLOPT_WRITEFUNCTION, ResponseSink.onBody)
        try easy.set(CURLOPT_WRITEDATA, pointer: context)
        try easy.setWriteCallback(CURLOPT_HEADERFUNCTION, ResponseSink.onHeader)
        try easy.set(CURLOPT_HEADERDATA, pointer: context)
        // The transfer outlives this call, so libcurl keeps its own copy of the body. An
        // empty body still needs a non-nil pointer, or libcurl would use a read callback.
        try easy.set(CURLOPT_POSTFIELDSIZE_LARGE, largeOffset: Int64(request.body.count))
        let payload = request.body.isEmpty ? [UInt8(0)] : request.body
        let copied: Result<Void, CurlError> = payload.withUnsafeBytes { body in
            Result { () throws(CurlError) in try easy.set(CURLOPT_COPYPOSTFIELDS, pointer: body.baseAddress) }
        }
        try copied.get()
    }

    /// The finished transfer's response, or its error.
    func result(_ code: CURLcode) -> Result<HTTPResponse, TransportError> {
        if sink.overflowed || code == CURLE_FILESIZE_EXCEEDED {
            return .failure(
                TransportError(
                    kind: .responseTooLarge, code: Int(code.rawValue),
                    message: "the answer exceeded \(ResponseSink.maxBodyBytes) bytes of body "
                        + "or \(ResponseSink.maxHeaderBytes) bytes of headers; not read further"))
        }
        guard code == CURLE_OK else { return .failure(easy.failure(code).transportError) }
        do throws(CurlError) {
            return .success(HTTPResponse(status: try easy.responseCode(), headers: sink.headers, body: sink.body))
        } catch {
            return .failure(error.transportError)
        }
    }

    /// Releases the response and the header list; the handle and its connection stay.
    func reset() {
        sink.reset()
        headers = nil
    }
}

/// Collects one response's body and header lines from libcurl's callbacks, up to a cap: a
/// hostile or broken server cannot make the agent hold more than `maxBodyBytes` of body and
/// `maxHeaderBytes` of headers per transfer, however much it sends.
final class ResponseSink {
    /// The API answers with a few hundred bytes; a strict 400 listing every record of a full
    /// batch stays well under this.
    static let maxBodyBytes = 1 << 20
    /// libcurl refuses a header line over 100 KB; this bounds all of them together.
    static let maxHeaderBytes = 256 << 10

    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    private var headerBytes = 0
    /// A cap was reached: the callbacks took no more and libcurl aborted the transfer.
    private(set) var overflowed = false

    func reset() {
        body = []
        headers = []
        headerBytes = 0
        overflowed = false
    }

    /// Returning less than `length` makes libcurl end the transfer (CURLE_WRITE_ERROR).
    static let onBody: CurlEasy.DataCallback = {
        data, size, count, context in
        let length = size * count
        guard let data, let context else { return length }
        let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
        guard sink.body.count + length <= maxBodyBytes else {
            sink.overflowed = true
            return 0
        }
        sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
        return length
    }

    static let onHeader: CurlEasy.DataCallback = {
        data, size, count, context in
        let length = size * count
        guard let data, let context else { return length }
        let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
        sink.headerBytes += length
        guard sink.headerBytes <= maxHeaderBytes else {
            sink.overflowed = true
            return 0
        }
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            sink.headers.removeAll()  // a new response block (after 100 Continue or a 1xx)
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingASCII(" \t\r\n")
            sink.headers.append((name: name, value: value))
        }
        return length
    }
}

extension StringProtocol {
    /// Trims the given ASCII characters from both ends, without Foundation.
    fileprivate func trimmingASCII(_ set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let c = s.first, chars.contains(c) { s = s.dropFirst() }
        while let c = s.last, chars.contains(c) { s = s.dropLast() }
        return String(s)
    }
}
