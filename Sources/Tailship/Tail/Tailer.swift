#if canImport(Glibc)
    import Dispatch
    import FoundationEssentials
    import Logging
    import Synchronization

    /// Tails the files of a set of sources on a thread of its own and hands their complete lines
    /// to a `LineSink`.
    ///
    /// Files are found by glob and watched through inotify on their directories, with a periodic
    /// rescan as a safety net for missed events. Rotation, truncation and deletion are handled as
    /// `docs/rotation.md` describes. The sink is called synchronously on the tail thread: while it
    /// blocks, nothing is read.
    public final class Tailer: Sendable {
        /// Tuning knobs; the defaults suit production.
        public struct Options: Sendable {
            /// Bytes per `pread`; lines are framed in place inside such a chunk.
            public var chunkSize: Int = 64 * 1024
            /// Chunks read from one file before the others get a turn.
            public var chunksPerTurn: Int = 16
            /// Longest wait for an event; bounds how late a stop or a drained file's close is seen.
            public var pollInterval: Duration = .milliseconds(250)
            /// Full rescan period while every directory is watched: the safety net for changes
            /// inotify does not report (writes through `mmap`). Each rescan costs one `stat` per
            /// matched file, so idle files cost CPU in proportion to it.
            public var rescanInterval: Duration = .seconds(10)
            /// The period instead while a directory could not be watched (full watch table): the
            /// rescan is then how new files there are found.
            public var unwatchedRescanInterval: Duration = .seconds(2)
            /// How long a renamed-away or deleted file stays open at its end, for a writer that still
            /// appends through its old descriptor after the rename.
            public var drainGrace: Duration = .seconds(1)
            /// Set when this tailer follows another in the same process (a reload): files its
            /// initial scan finds without a checkpoint that were created at or after this instant
            /// (ns since the epoch, from their birth time) appeared while the process was watching,
            /// in the gap between the two tailers, and are read from their first byte whatever
            /// `start_at` says. Nil at the process's own start.
            public var appearedSinceNs: Int64?

            public init() {}
        }

        private struct State {
            var started = false
            var done: DispatchSemaphore?
            var loop: TailLoop?
            var stopped = false
        }

        private let sources: [TailSource]
        private let sink: any LineSink
        private let resume: ResumeLookup
        private let options: Options
        private let logger: Logger
        private let state = Mutex(State())
        /// The tail thread's turns (see `Heartbeat`).
        public let heartbeat = Heartbeat()

        /// - Parameters:
        ///   - sources: what to tail; a source's index in this array identifies it to the sink.
        ///   - resume: which recorded file, if any, a file found is (see `ResumeLookup`).
        public init(
            sources: [TailSource], sink: any LineSink, resume: @escaping ResumeLookup = { _, _, _ in .unknown },
            options: Options = Options(), logger: Logger = Logger(label: "tailship.tail")
        ) {
            self.sources = sources
            self.sink = sink
            self.resume = resume
            self.options = options
            self.logger = logger
        }

        deinit {
            stop()
        }

        /// Starts the tail thread and returns once its initial scan has sighted the files present
        /// now (they start at their checkpoint or at `start_at`); then it watches. Throws when inotify cannot be set up. Starting twice, or
        /// after `stop()`, does nothing.
        public func start() throws(SyscallError) {
            let inotify = try Inotify()
            let wakeup = try Wakeup()
            let milliseconds = options.pollInterval.wholeMilliseconds
            let loopOptions = TailLoop.Options(
                chunkSize: max(options.chunkSize, 4096), chunksPerTurn: max(options.chunksPerTurn, 1),
                pollIntervalMs: Int32(clamping: max(milliseconds, 1)), rescanInterval: options.rescanInterval,
                unwatchedRescanInterval: options.unwatchedRescanInterval, drainGrace: options.drainGrace,
                appearedSinceNs: options.appearedSinceNs)
            let loop = TailLoop(
                sources: sources, sink: sink, resume: resume, options: loopOptions, logger: logger,
                inotify: inotify, wakeup: wakeup, heartbeat: heartbeat)
            let sighted = DispatchSemaphore(value: 0)
            let started = state.withLock { state -> Bool in
                guard !state.started, !state.stopped else { return false }
                let done = DispatchSemaphore(value: 0)
                state.started = true
                state.done = done
                state.loop = loop
                OwnedThread.start(name: "tailship-tail") {
                    loop.run(sighted: { sighted.signal() })
                    done.signal()
                }
                return true
            }
            // Files present when start() returns count as present at start (start_at applies);
            // anything created afterwards is new and read from its beginning.
            if started { sighted.wait() }
        }

        /// Stops reading promptly and waits for the tail thread to exit (it finishes the sink call
        /// in progress, so a sink must not block forever, and must not call `stop()` itself).
        public func stop() {
            let (loop, done) = state.withLock { state -> (TailLoop?, DispatchSemaphore?) in
                state.stopped = true
                defer { state.done = nil }
                return (state.loop, state.done)
            }
            guard let loop, let done else { return }
            loop.stopping.store(true, ordering: .releasing)
            loop.wakeUp()
            done.wait()
        }

        /// The files open now, as of the tail thread's last turn.
        public func currentFiles() -> [TailedFileStatus] {
            state.withLock { $0.loop }?.published.withLock { $0 } ?? []
        }

        /// When the tail thread last began a turn (ms since the epoch); nil before `start()`.
        public func lastTurnMs() -> Int64? {
            guard state.withLock({ $0.loop }) != nil else { return nil }
            return WallClock.nowMs() - Int64(heartbeat.ageSeconds * 1000)
        }

        /// The matched paths that cannot be opened, as of the tail thread's last scan.
        public func unopenableFiles() -> [UnopenableFile] {
            state.withLock { $0.loop }?.unopenable.withLock { $0 } ?? []
        }
    }
#endif
