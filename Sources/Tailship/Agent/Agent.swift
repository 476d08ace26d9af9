import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// The `tailship run` daemon: builds the pipeline from a configuration, runs it until SIGTERM
/// or SIGINT, and swaps in a new configuration on SIGHUP (an invalid one is refused and the
/// running one kept).
public final class Agent {
    /// How long shutdown may wait for in-flight batches before abandoning them (they are
    /// simply not acknowledged, so their lines are read again on the next start).
    public static let shutdownGraceMs = 10_000
    /// How long before a reload's stop a file may have been created without the old tailer
    /// having seen it (its inotify event still unread): 10 s, generously.
    static let reloadGapMarginNs: Int64 = 10_000_000_000
    /// How often the signal wait wakes up (for the periodic stats line).
    static let tickMs = 1_000
    static let statsIntervalMs = 60_000

    private let configPath: String
    private let environment: () -> [String: String]
    private let logger: Logger

    public init(
        configPath: String, logger: Logger,
        environment: @escaping () -> [String: String] = { ProcessInfo.processInfo.environment }
    ) {
        self.configPath = configPath
        self.logger = logger
        self.environment = environment
    }

    /// Runs until a terminating signal. The caller must have called
    /// `SignalWaiter.blockHandledSignals()` before creating any thread.
    public func run() throws {
        let startedMs = WallClock.nowMs()
        let initial = try AgentPlan.load(path: configPath, environment: environment(), checkStateDir: true)
        var lock = try StateDirectoryLock(stateDir: initial.config.stateDir)
        let metrics = AgentMetrics()  // counts from start to exit, across reloads
        let exporter = MetricsExporter(metrics: metrics, logger: logger)
        try exporter.configure(initial.config.metrics)
        var running = try RunningPipeline.start(plan: initial, logger: logger, metrics: metrics)
        exporter.attach(running)
        logger.info(.agentStarted, metadata: ["config": "\(configPath)", "version": "\(TailshipVersion.current)"])
        // Under systemd (Type=notify): started once the first scan has sighted the files.
        let notifier = SystemdNotifier(environment: environment())
        notifier.send("READY=1\nSTATUS=running\nMAINPID=\(getpid())")
        var watchdog = WatchdogPings(notifier: notifier, logger: logger)
        // Written by this thread on its tick (never by the reading or shipping threads).
        var status = AgentStatusPublisher(stateDir: lock.stateDir, startedMs: startedMs, logger: logger)
        running.publish(to: status)
        let signals = SignalWaiter()
        var sinceStats = 0
        while true {
            switch signals.wait(timeoutMs: Self.tickMs) {
            case .terminate(let sig):
                notifier.send("STOPPING=1")
                watchdog.ping()  // the stop may take the whole grace
                logger.info(.agentStopping, metadata: ["signal": "\(sig)"])
                running.stop(graceMs: Self.shutdownGraceMs)
                exporter.stop()
                logger.info(.agentStopped, metadata: running.statsMetadata())
                return
            case .reload:
                notifier.reloading()
                let plan: AgentPlan
                var newLock: StateDirectoryLock?
                do {
                    // What the new config writes into (state_dir, a file destination's directory)
                    // would only fail once the running pipeline is stopped: checked first, like
                    // `check` does, and a reload that cannot work is refused.
                    plan = try AgentPlan.load(path: configPath, environment: environment(), checkPaths: true)
                    _ = try CheckpointStore(directory: plan.config.stateDir, discardingLeftovers: false)
                    if plan.config.stateDir != lock.stateDir {
                        newLock = try StateDirectoryLock(stateDir: plan.config.stateDir)
                    }
                } catch {
                    logger.error(
                        .agentReloadRefused, "keeping the running configuration",
                        metadata: ["config": "\(configPath)", "error": "\(error)"])
                    notifier.send("READY=1\nSTATUS=reload refused; the previous configuration keeps running")
                    continue
                }
                if plan.changesOnlyCredentials(from: running.plan),
                    running.stages.shipper.canUpdate(to: plan.credentials)
                {
                    // A rotated secret: nothing to rebuild, nothing to read again.
                    running.stages.shipper.update(credentials: plan.credentials)
                    running = running.with(plan: plan)
                    logger.info(
                        .agentCredentialsUpdated, "the running shipper took them", metadata: ["config": "\(configPath)"]
                    )
                    notifier.send("READY=1\nSTATUS=running")
                    continue
                }
                logger.info(.agentReloading, metadata: ["config": "\(configPath)"])
                // Files created while one pipeline gives way to the other appeared while the agent
                // was running: the new one reads them from their start (with a margin for events
                // the old tailer had not handled yet; a file it did see has its checkpoint).
                let appearedSinceNs = Int64(Date().timeIntervalSince1970 * 1e9) - Self.reloadGapMarginNs
                watchdog.ping()  // the stop and the start hold this loop up to the grace and a scan
                running.stop(graceMs: Self.shutdownGraceMs)
                if let newLock {
                    lock.release()
                    lock = newLock
                    status = AgentStatusPublisher(stateDir: lock.stateDir, startedMs: startedMs, logger: logger)
                }
                running = try RunningPipeline.start(
                    plan: plan, logger: logger, metrics: metrics, appearedSinceNs: appearedSinceNs)
                watchdog.ping()
                exporter.follow(running)
                notifier.send("READY=1\nSTATUS=running")
            case nil:
                break
            }
            watchdog.tick(running)
            running.publish(to: status)
            sinceStats += Self.tickMs
            if sinceStats >= Self.statsIntervalMs {
                sinceStats = 0
                logger.info(.agentStats, metadata: running.statsMetadata())
            }
        }
    }
}
