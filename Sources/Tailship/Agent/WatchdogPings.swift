import Logging

/// The systemd watchdog, pinged from the agent's main loop only while every stage of the
/// pipeline goes round: its reading, delivery and checkpoint threads each wake at least every
/// second, so one that has not for `stuckAfterSeconds` is stuck (a deadlock, a hung system
/// call), and the missing pings let systemd restart the agent (`WatchdogSec=`). An outage is
/// not stuck: the delivery thread keeps retrying, and restarting would not help.
struct WatchdogPings {
    static let stuckAfterSeconds = 10.0

    let notifier: SystemdNotifier
    let logger: Logger
    private var lastPing = Heartbeat()
    private var reported: String?

    init(notifier: SystemdNotifier, logger: Logger) {
        self.notifier = notifier
        self.logger = logger
    }

    /// Pings at once (when the watchdog is on): before and after the known long work of a reload
    /// or a stop, which holds up the main loop for up to the shutdown grace and a first scan.
    mutating func ping() {
        guard notifier.watchdogIntervalMs != nil else { return }
        notifier.send("WATCHDOG=1")
        lastPing.beat()
    }

    /// Pings when an interval has passed and nothing is stuck; says once which stage is stuck.
    mutating func tick(_ running: RunningPipeline) {
        guard let intervalMs = notifier.watchdogIntervalMs,
            lastPing.ageSeconds * 1000 >= Double(intervalMs) - 50
        else { return }
        if let stuck = running.stuckStage(after: Self.stuckAfterSeconds) {
            if reported != stuck {
                reported = stuck
                logger.error(
                    .agentStageStuck, "the systemd watchdog is no longer pinged",
                    metadata: ["stage": "\(stuck)", "stuck_after_s": "\(Int(Self.stuckAfterSeconds))"])
            }
            return
        }
        reported = nil
        notifier.send("WATCHDOG=1")
        lastPing.beat()
    }
}
