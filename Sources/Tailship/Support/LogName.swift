import Logging

/// Every line tailship logs, named once here so operators get a stable set to alert on
/// (docs/operations.md lists them all, and a test keeps that list complete). The name is the
/// message, `area.what_happened`; an explanation may follow it after ": ", and what varies
/// goes in the metadata.
public enum LogName: String, CaseIterable, Sendable {
    // The agent's life.
    case agentStarted = "agent.started"
    case agentStopping = "agent.stopping"
    case agentStopped = "agent.stopped"
    case agentFailed = "agent.failed"
    case agentReloading = "agent.reloading"
    case agentReloadRefused = "agent.reload_refused"
    case agentCredentialsUpdated = "agent.credentials_updated"
    case agentStageStuck = "agent.stage_stuck"
    case agentStats = "agent.stats"
    case agentStatusWriteFailed = "agent.status_write_failed"
    case importFinished = "import.finished"

    // The metrics endpoint.
    case metricsListening = "metrics.listening"
    case metricsBindFailed = "metrics.bind_failed"

    // Reading files.
    case tailFileOpened = "tail.file_opened"
    case tailFileMoved = "tail.file_moved"
    case tailFileDraining = "tail.file_draining"
    case tailFileClosed = "tail.file_closed"
    case tailFileTruncated = "tail.file_truncated"
    case tailFileGoneWhileClosed = "tail.file_gone_while_closed"
    case tailCopyRecognised = "tail.copy_recognised"
    case tailCheckpointPastEnd = "tail.checkpoint_past_end"
    case tailFileRewritten = "tail.file_rewritten"
    case tailOpenFailed = "tail.open_failed"
    case tailLinkRefused = "tail.link_refused"
    case tailOpenRecovered = "tail.open_recovered"
    case tailReadFailed = "tail.read_failed"
    case tailWatchFailed = "tail.watch_failed"
    case tailWatchLimitReached = "tail.watch_limit_reached"
    case tailInotifyOverflow = "tail.inotify_overflow"
    case tailInotifyFailed = "tail.inotify_failed"

    // Checkpoints and dead letters on the reading side.
    case checkpointPruned = "checkpoint.pruned"
    case checkpointSaveFailed = "checkpoint.save_failed"
    case checkpointSaveRecovered = "checkpoint.save_recovered"
    case deadLettersNotWritten = "checkpoint.dead_letters_not_written"
    case deadLettersWritten = "checkpoint.dead_letters_written"

    // Shipping.
    case shipStarted = "ship.started"
    case shipStopped = "ship.stopped"
    case shipStoppedAtDeadline = "ship.stopped_at_deadline"
    case shipStoppedUndelivered = "ship.stopped_undelivered"
    case shipBatchAccepted = "ship.batch_accepted"
    case shipBatchPartlyAccepted = "ship.batch_partly_accepted"
    case shipBatchSplit = "ship.batch_split"
    case shipConcurrencyChanged = "ship.concurrency_changed"
    case shipDeliveryFailed = "ship.delivery_failed"
    case shipCredentialsRefused = "ship.credentials_refused"
    case shipFailedRecordUnmatched = "ship.failed_record_unmatched"
    case shipGzipFailed = "ship.gzip_failed"
    case shipEventDeadLettered = "ship.event_dead_lettered"
    case shipDeadLetterWriteFailed = "ship.dead_letter_write_failed"
    case shipLocalWriteFailed = "ship.local_write_failed"
}

extension Logger {
    /// The message for `event`: its name, then `detail` after ": " when given.
    static func message(_ event: LogName, _ detail: String?) -> Logger.Message {
        guard let detail else { return "\(event.rawValue)" }
        return "\(event.rawValue): \(detail)"
    }

    public func debug(_ event: LogName, _ detail: String? = nil, metadata: Logger.Metadata? = nil) {
        log(level: .debug, Self.message(event, detail), metadata: metadata)
    }

    public func info(_ event: LogName, _ detail: String? = nil, metadata: Logger.Metadata? = nil) {
        log(level: .info, Self.message(event, detail), metadata: metadata)
    }

    public func warning(_ event: LogName, _ detail: String? = nil, metadata: Logger.Metadata? = nil) {
        log(level: .warning, Self.message(event, detail), metadata: metadata)
    }

    public func error(_ event: LogName, _ detail: String? = nil, metadata: Logger.Metadata? = nil) {
        log(level: .error, Self.message(event, detail), metadata: metadata)
    }

    public func critical(_ event: LogName, _ detail: String? = nil, metadata: Logger.Metadata? = nil) {
        log(level: .critical, Self.message(event, detail), metadata: metadata)
    }
}
