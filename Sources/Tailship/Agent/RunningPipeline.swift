import Foundation
import Logging

/// The live stages of one configuration: tailer, pipeline and shipper, started together and
/// stopped in reverse order (stop reading, drain shipping, save checkpoints).
struct RunningPipeline {
    let stages: PipelineStages
    let tailer: Tailer

    var pipeline: Pipeline { stages.pipeline }

    static func start(plan: AgentPlan, logger: Logger) throws -> RunningPipeline {
        let stages = try PipelineStages(plan: plan, storeName: CheckpointStore.liveStoreName, logger: logger)
        let store = stages.store
        let tailer = Tailer(
            sources: plan.config.sources.map(TailSource.init), sink: stages.pipeline,
            resume: { device, inode in
                store.checkpoints(device: device, inode: inode).map {
                    ResumePoint(identity: $0.identity, offset: $0.offset)
                }
            }, logger: logger)
        try stages.shipper.start()
        try tailer.start()
        return RunningPipeline(stages: stages, tailer: tailer)
    }

    /// Bounded even when the API is down: the tail thread waits for room in a full shipping
    /// queue at most `TailLoop.roomWait` per turn, and stopping the shipper (which refuses new
    /// events) ends even that.
    func stop(graceMs: Int) {
        let tailStopped = DispatchSemaphore(value: 0)
        let tailer = self.tailer
        Thread {
            tailer.stop()
            tailStopped.signal()
        }.start()
        // Usually reading stops within a turn; give it that long before draining the shipper.
        let stoppedEarly = tailStopped.wait(timeout: .now() + .milliseconds(500)) == .success
        // Events read but held back by a full queue go out with the rest when the queue drains in
        // time (during an outage it does not: they stay unacknowledged and are read again).
        if stoppedEarly { _ = stages.pipeline.waitForRoom(timeout: .milliseconds(min(500, graceMs / 4))) }
        stages.shipper.stop(deadline: Date(timeIntervalSinceNow: Double(graceMs) / 1000))
        if !stoppedEarly { tailStopped.wait() }
        pipeline.saveCheckpoints()
    }

    func statsMetadata() -> Logger.Metadata { stages.statsMetadata() }
}

/// The pipeline and shipper of one plan, wired to each other and to a checkpoint store:
/// what `run` puts behind its tailer and `import` behind its file reader.
struct PipelineStages {
    let pipeline: Pipeline
    let shipper: Shipper
    let store: CheckpointStore
    let metrics = AgentMetrics()

    init(plan: AgentPlan, storeName: String, logger: Logger) throws {
        let config = plan.config
        store = try CheckpointStore(directory: config.stateDir, name: storeName)
        // The shipper reports acknowledgements to the pipeline, which is created after it.
        let relay = AckRelay()
        shipper = Shipper(
            destination: config.destination, credentials: plan.credentials,
            stateDir: config.stateDir, logger: logger
        ) { handles, result in
            relay.forward(handles, deadLettered: result == .deadLettered)
        }
        pipeline = Pipeline(
            sources: config.sources, engines: plan.engines, shipper: shipper, store: store,
            deadLetters: DeadLetterWriter(
                stateDir: config.stateDir,
                maxBytes: config.destination.deadLetterMaxBytes), metrics: metrics, logger: logger)
        relay.target = pipeline
    }

    func statsMetadata() -> Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        for (name, value) in metrics.snapshot() { metadata[name] = "\(value)" }
        return metadata
    }
}

/// Breaks the construction cycle between the shipper (which needs a callback) and the
/// pipeline (which needs the shipper). Set once before any event flows.
final class AckRelay: @unchecked Sendable {
    weak var target: Pipeline?

    func forward(_ handles: [AckHandle], deadLettered: Bool) {
        target?.resolved(handles, deadLettered: deadLettered)
    }
}
