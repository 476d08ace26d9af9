#if canImport(Glibc)
    import Dispatch
    import FoundationEssentials
    import Glibc
    import Synchronization

    /// A response of the metrics endpoint.
    struct MetricsResponse: Sendable {
        var status: Int
        var contentType = "text/plain; charset=utf-8"
        var body: String
    }

    /// The HTTP/1.1 server behind `/metrics` and `/healthz`, on a thread of its own: one
    /// connection at a time, a bounded request head read within `readTimeoutMs`, the answer
    /// written within `writeTimeoutMs`, then the connection closed (`Connection: close`). It
    /// calls `handler` for each request and `tick` about once a second, and touches nothing of
    /// the pipeline's threads: a slow or hostile client delays only the next scrape.
    final class MetricsServer: Sendable {
        let address: ListenAddress
        private let listener: Int32
        private let wakeup: Wakeup
        private let stopping = Atomic<Bool>(false)
        private let started = Atomic<Bool>(false)
        private let closed = Atomic<Bool>(false)
        private let finished = DispatchSemaphore(value: 0)
        private let handler: @Sendable (HTTPRequestHead) -> MetricsResponse
        private let tick: @Sendable () -> Void

        static let readTimeoutMs = 2_000
        static let writeTimeoutMs = 5_000
        static let tickMs: Int32 = 1_000

        /// Binds and listens now (so a busy port fails the caller at once); `start()` serves.
        init(
            address: ListenAddress, handler: @escaping @Sendable (HTTPRequestHead) -> MetricsResponse,
            tick: @escaping @Sendable () -> Void
        ) throws(SyscallError) {
            self.address = address
            self.handler = handler
            self.tick = tick
            wakeup = try Wakeup()
            listener = try Self.listen(on: address)
        }

        deinit {
            closeListener()
        }

        func start() {
            guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
            OwnedThread.start(name: "tailship-metric") { [self] in
                run()
                finished.signal()
            }
        }

        /// Stops serving, waits for the thread (at most the write timeout of an answer in
        /// progress) and closes the socket, so the port is free when this returns.
        func stop() {
            guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
            if started.load(ordering: .acquiring) {
                wakeup.signal()
                finished.wait()
            }
            closeListener()
        }

        private func closeListener() {
            if !closed.exchange(true, ordering: .acquiringAndReleasing) { close(listener) }
        }

        /// `bind(2)` to an IPv4 or IPv6 socket address structure.
        private static func bind<Address>(_ fd: Int32, to address: inout Address, name: String) throws(SyscallError) {
            _ = try syscallRetrying("bind", path: name) {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.bind(fd, $0, socklen_t(MemoryLayout<Address>.size))
                    }
                }
            }
        }

        private static func listen(on address: ListenAddress) throws(SyscallError) -> Int32 {
            let family = address.isIPv6 ? AF_INET6 : AF_INET
            let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
            let fd = try syscallRetrying("socket") { socket(family, type, 0) }
            do throws(SyscallError) {
                var one: Int32 = 1
                _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
                let name = address.description
                if address.isIPv6 {
                    _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
                    var socketAddress = sockaddr_in6()
                    socketAddress.sin6_family = sa_family_t(AF_INET6)
                    socketAddress.sin6_port = address.port.bigEndian
                    _ = inet_pton(AF_INET6, address.host, &socketAddress.sin6_addr)
                    try bind(fd, to: &socketAddress, name: name)
                } else {
                    var socketAddress = sockaddr_in()
                    socketAddress.sin_family = sa_family_t(AF_INET)
                    socketAddress.sin_port = address.port.bigEndian
                    _ = inet_pton(AF_INET, address.host, &socketAddress.sin_addr)
                    try bind(fd, to: &socketAddress, name: name)
                }
                _ = try syscallRetrying("listen", path: name) { Glibc.listen(fd, 16) }
            } catch {
                close(fd)
                throw error
            }
            return fd
        }

        private func run() {
            var lastTick = ContinuousClock.now
            while !stopping.load(ordering: .acquiring) {
                var fds = [
                    pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: wakeup.fileDescriptor, events: Int16(POLLIN), revents: 0),
                ]
                _ = poll(&fds, 2, Self.tickMs)
                if ContinuousClock.now - lastTick >= .milliseconds(Int(Self.tickMs)) {
                    lastTick = .now
                    tick()
                }
                guard fds[0].revents & Int16(POLLIN) != 0 else { continue }
                // accept4 is hidden behind _GNU_SOURCE in Glibc's Swift module: flags set after.
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { continue }
                _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
                _ = fcntl(connection, F_SETFL, fcntl(connection, F_GETFL) | O_NONBLOCK)
                serve(connection)
                close(connection)
            }
        }

        private func serve(_ connection: Int32) {
            let deadline = ContinuousClock.now + .milliseconds(Self.readTimeoutMs)
            var input: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 2048)
            let response: MetricsResponse
            reading: while true {
                switch HTTPRequestHead.parse(input) {
                case .request(let head):
                    response = answer(head)
                    break reading
                case .malformed:
                    response = MetricsResponse(status: 400, body: "bad request\n")
                    break reading
                case .incomplete:
                    guard input.count < HTTPRequestHead.maxBytes else {
                        response = MetricsResponse(status: 431, body: "request header too large\n")
                        break reading
                    }
                }
                guard wait(connection, for: POLLIN, until: deadline) else { return }  // too slow: dropped
                let count = read(connection, &chunk, min(chunk.count, HTTPRequestHead.maxBytes - input.count + 1))
                if count < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                guard count > 0 else { return }  // closed or failed before a whole request
                input += chunk[..<count]
            }
            write(response, to: connection)
        }

        private func answer(_ head: HTTPRequestHead) -> MetricsResponse {
            guard head.method == "GET" || head.method == "HEAD" else {
                return MetricsResponse(status: 405, body: "only GET and HEAD\n")
            }
            var response = handler(head)
            if head.method == "HEAD" { response.body = "" }
            return response
        }

        private func write(_ response: MetricsResponse, to connection: Int32) {
            let body = Array(response.body.utf8)
            let head =
                "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
                + "Content-Type: \(response.contentType)\r\nContent-Length: \(body.count)\r\n"
                + "Connection: close\r\nCache-Control: no-store\r\n\r\n"
            let bytes = Array(head.utf8) + body
            let deadline = ContinuousClock.now + .milliseconds(Self.writeTimeoutMs)
            var sent = 0
            while sent < bytes.count {
                let count = bytes[sent...].withUnsafeBytes {
                    send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                if count > 0 {
                    sent += count
                } else if count < 0 && (errno == EAGAIN || errno == EINTR) {
                    guard wait(connection, for: POLLOUT, until: deadline) else { return }
                } else {
                    return
                }
            }
            // Half-close so the client reads the end of the answer before the connection goes.
            shutdown(connection, Int32(SHUT_WR))
        }

        /// Waits until `connection` is ready for `event`, the deadline passes (false) or the
        /// server stops (false).
        private func wait(_ connection: Int32, for event: Int32, until deadline: ContinuousClock.Instant) -> Bool {
            while !stopping.load(ordering: .acquiring) {
                let left = deadline - .now
                guard left > .zero else { return false }
                let ms = Int32(clamping: left.wholeMilliseconds + 1)
                var fds = [
                    pollfd(fd: connection, events: Int16(event), revents: 0),
                    pollfd(fd: wakeup.fileDescriptor, events: Int16(POLLIN), revents: 0),
                ]
                let ready = poll(&fds, 2, ms)
                if ready < 0 && errno != EINTR { return false }
                if fds[0].revents != 0 { return true }
            }
            return false
        }

        static func reason(_ status: Int) -> String {
            switch status {
            case 200: "OK"
            case 400: "Bad Request"
            case 404: "Not Found"
            case 405: "Method Not Allowed"
            case 431: "Request Header Fields Too Large"
            case 503: "Service Unavailable"
            default: "Status"
            }
        }
    }
#endif
