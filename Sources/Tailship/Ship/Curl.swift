import CCurl
import Synchronization

/// A libcurl easy-handle failure: the `CURLcode`, classified for retry decisions.
struct CurlError: Error, Sendable {
    var code: CURLcode
    var detail: String

    /// `curl_easy_strerror`, plus the error buffer's detail when libcurl filled it.
    var message: String {
        let text = String(cString: curl_easy_strerror(code))
        return detail.isEmpty ? text : "\(text): \(detail)"
    }

    /// Maps libcurl's codes onto the transport's broad classes.
    var transportError: TransportError {
        let kind: TransportError.Kind
        switch code {
        case CURLE_OPERATION_TIMEDOUT: kind = .timeout
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: kind = .dns
        case CURLE_COULDNT_CONNECT: kind = .connect
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
            CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE:
            kind = .tls
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE:
            kind = .reset
        case CURLE_ABORTED_BY_CALLBACK: kind = .aborted
        default: kind = .other
        }
        return TransportError(kind: kind, code: Int(code.rawValue), message: message)
    }
}

/// `curl_global_init`, exactly once per process, before the first easy handle.
enum CurlGlobal {
    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    static func ensureInitialized() -> Bool { initialized }
}

/// Owns one libcurl easy handle (`curl_easy_init` / `curl_easy_cleanup`) and turns the
/// variadic setopt calls into typed ones. Not thread-safe; the owner serialises use.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    /// libcurl writes the detail of the last failure here (CURLOPT_ERRORBUFFER).
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init() throws(CurlError) {
        guard CurlGlobal.ensureInitialized(), let handle = curl_easy_init() else {
            throw CurlError(code: CURLE_FAILED_INIT, detail: "curl_easy_init failed")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeRawPointer(errorBuffer))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    func set(_ option: CURLoption, _ value: Int) throws(CurlError) {
        try check(tailship_curl_easy_setopt_long(handle, option, value))
    }

    func set(_ option: CURLoption, pointer: UnsafeRawPointer?) throws(CurlError) {
        try check(tailship_curl_easy_setopt_ptr(handle, option, pointer))
    }

    func set(_ option: CURLoption, largeOffset: Int64) throws(CurlError) {
        try check(tailship_curl_easy_setopt_off(handle, option, curl_off_t(largeOffset)))
    }

    /// Sets a string option; libcurl copies strings given to setopt (since 7.17).
    func set(_ option: CURLoption, string: String) throws(CurlError) {
        let rc = string.withCString { tailship_curl_easy_setopt_ptr(handle, option, $0) }
        try check(rc)
    }

    /// libcurl's write/header callback shape: (data, size, count, context) -> bytes taken.
    typealias DataCallback = @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int

    func setWriteCallback(_ option: CURLoption, _ callback: DataCallback) throws(CurlError) {
        try check(tailship_curl_easy_setopt_write_cb(handle, option, callback))
    }

    /// Empties the error buffer before a new transfer.
    func clearError() {
        errorBuffer[0] = 0
    }

    /// The error for a failed transfer's `code`, with the error buffer's detail.
    func failure(_ code: CURLcode) -> CurlError {
        CurlError(code: code, detail: String(cString: errorBuffer))
    }

    func responseCode() throws(CurlError) -> Int {
        var code = 0
        try check(tailship_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code))
        return code
    }

    private func check(_ rc: CURLcode) throws(CurlError) {
        guard rc == CURLE_OK else { throw failure(rc) }
    }
}

/// A growable list of header lines (`curl_slist`), freed in deinit.
final class CurlHeaderList {
    private(set) var list: UnsafeMutablePointer<curl_slist>?

    init(_ lines: [String]) {
        for line in lines {
            // curl_slist_append copies the string; nil means out of memory, leaving the old list.
            if let appended = curl_slist_append(list, line) { list = appended }
        }
    }

    deinit { curl_slist_free_all(list) }
}
