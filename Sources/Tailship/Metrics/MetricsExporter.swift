#if canImport(Glibc)
    import FoundationEssentials
    import Glibc
    import Logging
    import Synchronization

    /// The `metrics:` endpoint of `tailship run`: owns the server (rebinding it when a reload
    /// changes `listen`), follows whichever pipeline is current (`attach`), and answers
    /// `/metrics` and `/healthz` from it. Counters live in the one `AgentMetrics` the agent
    /// passes every pipeline, so they survive reloads.
    public final class MetricsExporter: Sendable {
        private let metrics: AgentMetrics
        private let logger: Logger
        private let state = Mutex(State())
        /// The server, replaced only by the agent's thread (`configure`, `stop`).
        private let server = Mutex<MetricsServer?>(nil)

        struct View: @unchecked Sendable {
            // @unchecked: every stage is Sendable; RuleStage is not used from here.
            var sources: [SourceConfig]
            var tailer: Tailer
            var shipper: Shipper
            var checkpointer: Checkpointer
        }

        struct State: Sendable {
            var view: View?
            var thresholdMs: Int64 = Int64(MetricsConfig.defaultUnhealthyAfterMs)
            var watches = FileWatches()
        }

        public init(metrics: AgentMetrics, logger: Logger) {
            self.metrics = metrics
            self.logger = logger
        }

        /// Serves `config` (nil: not at all). At start a failure throws; on reload the caller logs
        /// it and the server already running keeps serving.
        public func configure(_ config: MetricsConfig?) throws(SyscallError) {
            state.withLock { $0.thresholdMs = Int64(config?.unhealthyAfterMs ?? MetricsConfig.defaultUnhealthyAfterMs) }
            let current = server.withLock { $0 }
            guard current?.address != config?.listen else { return }
            var replacement: MetricsServer?
            if let config {
                // Bound before the old one goes: a port that cannot be had leaves the old serving.
                // The same port is free only once the old one is closed: try that order too.
                do {
                    replacement = try makeServer(config.listen)
                } catch let error
                    where error.errno == Errno(rawValue: EADDRINUSE) && current?.address.port == config.listen.port
                {
                    current?.stop()
                    server.withLock { $0 = nil }
                    replacement = try makeServer(config.listen)
                }
            }
            current?.stop()
            replacement?.start()
            server.withLock { $0 = replacement }
            if let replacement {
                logger.info(.metricsListening, metadata: ["metrics.listen": "\(replacement.address)"])
            }
        }

        private func makeServer(_ address: ListenAddress) throws(SyscallError) -> MetricsServer {
            try MetricsServer(
                address: address, handler: { [self] in respond(to: $0) }, tick: { [self] in _ = sample() })
        }

        /// After a reload: the new pipeline's `metrics:` served (a new `listen` rebound; when that
        /// fails, logged and the running server kept) and the new pipeline reported on.
        func follow(_ running: RunningPipeline) {
            do {
                try configure(running.plan.config.metrics)
            } catch {
                logger.error(
                    .metricsBindFailed, "keeping the endpoint already served",
                    metadata: [
                        "metrics.listen": "\(running.plan.config.metrics?.listen.description ?? "")",
                        "error": "\(error)",
                    ])
            }
            attach(running)
        }

        /// From now on, the pipeline to report on.
        func attach(_ running: RunningPipeline) {
            let view = View(
                sources: running.plan.config.sources, tailer: running.tailer, shipper: running.stages.shipper,
                checkpointer: running.stages.checkpointer)
            state.withLock { state in
                state.view = view
                state.watches.reset()
            }
        }

        public func stop() {
            server.withLock { $0 }?.stop()
            server.withLock { $0 = nil }
        }

        private func respond(to head: HTTPRequestHead) -> MetricsResponse {
            switch head.path {
            case "/metrics":
                return MetricsResponse(status: 200, contentType: PrometheusText.contentType, body: render())
            case "/healthz":
                let snapshot = sample()
                if let problem = snapshot.problem { return MetricsResponse(status: 503, body: problem + "\n") }
                return MetricsResponse(status: 200, body: "ok\n")
            default:
                return MetricsResponse(status: 404, body: "not found: try /metrics or /healthz\n")
            }
        }

        /// What one sample of the pipeline finds.
        struct Snapshot {
            var files: [FileWatches.Sample] = []
            var checkpointAgeSeconds: Double = 0
            var problem: String?
            var shipperDepth: (events: Int, bytes: Int, inFlight: Int, inFlightLimit: Int) = (0, 0, 0, 0)
            var sources: [SourceConfig] = []
        }

        /// Samples the current pipeline: every file's position, size and checkpoint, and the
        /// health verdict. Called each second by the server thread and for each request.
        func sample() -> Snapshot {
            let nowMs = WallClock.nowMs()
            guard let (view, thresholdMs) = state.withLock({ s in s.view.map { ($0, s.thresholdMs) } }) else {
                // Bound before the first pipeline starts: not healthy until it has.
                return Snapshot(problem: "starting: the pipeline is not running yet")
            }
            let statuses = view.tailer.currentFiles()
            let (positions, unsaved) = view.checkpointer.positions()
            let lastSaveMs = view.checkpointer.lastSaveMs.load(ordering: .relaxed)
            var snapshot = Snapshot()
            snapshot.sources = view.sources
            snapshot.checkpointAgeSeconds = Double(max(0, nowMs - lastSaveMs)) / 1000
            snapshot.shipperDepth = view.shipper.depth
            var stalled: (path: String, behind: UInt64, forMs: Int64)?
            let sizes = statuses.map { Self.size(of: $0) }
            state.withLock { state in
                for (status, size) in zip(statuses, sizes) {
                    let checkpoint = positions[status.file]?.offset
                    let seen = state.watches.sample(
                        file: status.file, readOffset: status.offset, size: size, checkpoint: checkpoint, nowMs: nowMs)
                    let source = status.source < view.sources.count ? view.sources[status.source].name : ""
                    snapshot.files.append(
                        FileWatches.Sample(
                            path: status.path, source: source, bytesBehind: seen.behind,
                            secondsSinceRead: seen.secondsSinceRead, behindForMs: seen.behindForMs))
                }
                state.watches.keep(only: Set(statuses.map(\.file)))
            }
            // A file whose unread end is one line still being written is waiting, not stalled.
            for (index, status) in statuses.enumerated() {
                guard let forMs = snapshot.files[index].behindForMs, forMs >= thresholdMs,
                    let behind = snapshot.files[index].bytesBehind
                else { continue }
                let offset = positions[status.file]?.offset ?? status.offset
                if let file = try? ReadableFile(path: status.path),
                    StatusReport.unreadIsPartialLine(file, offset: offset, size: sizes[index])
                {
                    snapshot.files[index].behindForMs = nil
                    continue
                }
                if stalled == nil { stalled = (status.path, behind, forMs) }
            }
            snapshot.problem = PipelineHealth.problem(
                PipelineHealth.Inputs(
                    nowMs: nowMs, thresholdMs: thresholdMs, shipper: view.shipper.state,
                    lastTurnMs: view.tailer.lastTurnMs(), stalled: stalled, unsaved: unsaved, lastSaveMs: lastSaveMs))
            return snapshot
        }

        /// The file's size when the path still names the file being read (a rotated-away file
        /// being drained is not measured by its old name's new occupant).
        static func size(of status: TailedFileStatus) -> UInt64? {
            guard let stat = try? FileStatus.of(path: status.path) else { return nil }
            if let identity = status.identity, identity.inode != stat.inode { return nil }
            return stat.size
        }

        private func render() -> String {
            let snapshot = sample()
            let stalledMs = state.withLock { $0.thresholdMs }
            return PrometheusText.render(
                MetricsCatalog.families(
                    counters: metrics, labelled: metrics.labelledSnapshot(), snapshot: snapshot,
                    stallAfterMs: stalledMs))
        }
    }
#endif
