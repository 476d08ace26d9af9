import Dispatch
import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The live stages of one configuration, in the order a line travels: tailer → rule stage →
/// shipper → checkpointer. Started together (the checkpointer first, so positions can be
/// recorded from the first file seen) and stopped in that order: stop reading, drain shipping,
/// then let the checkpointer apply the last acknowledgements and save.
struct RunningPipeline {
    let plan: AgentPlan
    let stages: PipelineStages
    let tailer: Tailer

    /// `appearedSinceNs`: for a pipeline that replaces another (a reload), the instant the old
    /// one may have stopped noticing new files (see `Tailer.Options.appearedSinceNs`).
    /// `metrics`: the process's counters, kept across reloads (`/metrics`).
    static func start(
        plan: AgentPlan, logger: Logger, metrics: AgentMetrics = AgentMetrics(), appearedSinceNs: Int64? = nil
    ) throws -> RunningPipeline {
        let stages = try PipelineStages(
            plan: plan, storeName: CheckpointStore.liveStoreName, logger: logger, metrics: metrics)
        let checkpointer = stages.checkpointer
        var options = Tailer.Options()
        options.appearedSinceNs = appearedSinceNs
        let tailer = Tailer(
            sources: plan.config.sources.map(TailSource.init(reading:)), sink: stages.rules,
            resume: { path, status, matches in
                checkpointer.resumeDecision(path: path, status: status, matches: matches)
            }, options: options, logger: logger)
        do {
            try stages.shipper.start()
            try tailer.start()
        } catch {
            stages.shipper.stop(deadline: .now)
            checkpointer.stop()
            throw error
        }
        return RunningPipeline(plan: plan, stages: stages, tailer: tailer)
    }

    /// Bounded even when the API is down: the tail thread waits for room in a full shipping
    /// queue at most `TailLoop.roomWait` per turn, and stopping the shipper (which refuses new
    /// events) ends even that.
    func stop(graceMs: Int) {
        let tailStopped = DispatchSemaphore(value: 0)
        let tailer = self.tailer
        OwnedThread.start(name: "tailship-stop") {
            tailer.stop()
            tailStopped.signal()
        }
        // Usually reading stops within a turn; give it that long before draining the shipper.
        let stoppedEarly = tailStopped.wait(timeout: .now() + .milliseconds(500)) == .success
        // Events read but held back by a full queue go out with the rest when the queue drains in
        // time (during an outage it does not: they stay unacknowledged and are read again).
        if stoppedEarly { _ = stages.rules.waitForRoom(timeout: .milliseconds(min(500, graceMs / 4))) }
        stages.shipper.stop(deadline: .now + .milliseconds(graceMs))
        if !stoppedEarly { tailStopped.wait() }
        stages.checkpointer.stop()
    }

    func statsMetadata() -> Logger.Metadata { stages.statsMetadata() }

    /// The stage whose thread has not gone round for `seconds` (stuck), nil while all turn. Each
    /// of these threads wakes at least every second when idle.
    func stuckStage(after seconds: Double) -> String? {
        let beats: [(String, Heartbeat?)] = [
            ("reading", tailer.heartbeat), ("delivery", stages.shipper.heartbeat),
            ("checkpoints", stages.checkpointer.heartbeat),
        ]
        return beats.first { ($0.1?.ageSeconds ?? 0) > seconds }?.0
    }

    /// The same stages, now running `plan` (its credentials taken by the shipper).
    func with(plan: AgentPlan) -> RunningPipeline {
        RunningPipeline(plan: plan, stages: stages, tailer: tailer)
    }

    /// What `tailship status` cannot read from the checkpoints: the shipper's state, and the
    /// matched files that cannot be opened.
    func publish(to publisher: AgentStatusPublisher) {
        publisher.publish(shipper: stages.shipper.state, unopenable: tailer.unopenableFiles())
    }
}

/// The rule stage, shipper and checkpointer of one plan, each wired to the next: what `run`
/// puts behind its tailer and `import` behind its file reader.
struct PipelineStages {
    let rules: RuleStage
    let shipper: Shipper
    let checkpointer: Checkpointer
    let metrics: AgentMetrics

    init(plan: AgentPlan, storeName: String, logger: Logger, metrics: AgentMetrics = AgentMetrics()) throws {
        let config = plan.config
        self.metrics = metrics
        checkpointer = try Checkpointer(directory: config.stateDir, name: storeName, metrics: metrics, logger: logger)
        shipper = Shipper(
            destination: config.destination, credentials: plan.credentials, stateDir: config.stateDir,
            logger: logger, acknowledgements: checkpointer, metrics: metrics)
        rules = RuleStage(
            sources: config.sources, engines: plan.engines, shipper: shipper, checkpointer: checkpointer,
            deadLetters: DeadLetterWriter(stateDir: config.stateDir, maxBytes: config.destination.deadLetterMaxBytes),
            metrics: metrics, logger: logger)
    }

    func statsMetadata() -> Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        for (name, value) in metrics.snapshot() { metadata[name] = "\(value)" }
        return metadata
    }
}
