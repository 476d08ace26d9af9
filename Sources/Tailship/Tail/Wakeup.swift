#if canImport(Glibc)
    import Glibc

    /// A self-pipe used to wake a thread blocked in `poll(2)`, e.g. to stop it promptly.
    /// `signal()` may be called from any thread. (A pipe rather than `eventfd(2)`: Glibc's Swift
    /// module does not export `<sys/eventfd.h>`.)
    public final class Wakeup: Sendable {
        /// The read end, for `poll(2)`.
        public let fileDescriptor: Int32
        private let writeEnd: Int32

        public init() throws(SyscallError) {
            var ends: [Int32] = [-1, -1]
            // pipe2(2) is hidden behind _GNU_SOURCE in Glibc's Swift module, so set the flags after.
            _ = try syscallRetrying("pipe") { pipe(&ends) }
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
            fileDescriptor = ends[0]
            writeEnd = ends[1]
        }

        deinit {
            close(fileDescriptor)
            close(writeEnd)
        }

        /// Makes the read end readable until `drain()`. A full pipe (EAGAIN) already means "awake".
        public func signal() {
            var one: UInt8 = 1
            _ = try? syscallRetrying("write(wakeup)") { write(writeEnd, &one, 1) }
        }

        /// Empties the pipe so the next `poll` blocks again.
        public func drain() {
            var scratch = [UInt8](repeating: 0, count: 64)
            while (try? syscallRetrying("read(wakeup)") { read(fileDescriptor, &scratch, 64) }) ?? 0 > 0 {}
        }
    }
#endif
