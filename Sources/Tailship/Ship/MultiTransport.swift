/// Several requests in flight at once, driven by one thread: libcurl's multi interface in
/// production (`CurlMultiTransport`), a scripted fake in tests of the delivery loop.
///
/// `start`, `poll` and `cancelAll` are called by the one delivery thread; `wakeup` from any
/// thread.
protocol MultiTransport: AnyObject, Sendable {
    /// Starts sending `request`. Its result is returned by a later `poll`, under `tag`
    /// (a request that cannot even be started comes back as a `TransportError`).
    func start(_ request: HTTPRequest, tag: Int)
    /// Moves the transfers along for up to `timeoutMs` and returns the ones that finished.
    /// Returns early when something finished or `wakeup()` was called.
    func poll(timeoutMs: Int) -> [(tag: Int, result: Result<HTTPResponse, TransportError>)]
    /// Drops every transfer in progress without reporting it (stop at the deadline).
    func cancelAll()
    /// Makes a `poll` in progress, or the next one, return promptly.
    func wakeup()
}
