/// Delivers batches to `kind: stdout` or `kind: file`: the same event JSON, one object per
/// line (NDJSON), written per batch (and fsynced for a file) before the batch is acknowledged.
/// Write errors (a full disk, a closed pipe) are retried with backoff; nothing is dropped.
final class LocalSinkWorker: @unchecked Sendable {
    // @unchecked: used by exactly one shipper thread.
    private let output: AppendFile
    private let durable: Bool
    private let context: ShipperContext

    /// Opens the sink for `destination` (`kind` must be `stdout` or `file` with a `path`).
    init(destination: DestinationConfig, context: ShipperContext) throws(SyscallError) {
        self.context = context
        switch destination.kind {
        case .file:
            output = try AppendFile(path: destination.path ?? "", mode: 0o640)
            durable = true
        default:
            output = AppendFile(descriptor: 1, name: "standard output")
            durable = false
        }
    }

    /// Writes the batch as NDJSON; returns false if abandoned before it was written.
    @discardableResult
    func deliver(_ batch: Batch<ShipItem>) -> Bool {
        let bytes = batch.lines()
        var backoff = context.makeBackoff()
        while true {
            do {
                try output.write(bytes)
                if durable { try output.sync() }
                context.health.delivered()
                context.accept(batch.items[...])
                return true
            } catch {
                // A partial write may leave a line fragment; the retry rewrites whole lines,
                // and readers of this NDJSON must skip a malformed line (documented).
                let delay = backoff.nextDelayMs()
                context.health.failed(reason: "\(error)", credentialsRefused: false, nowMs: WallClock.nowMs())
                context.logger.error(
                    .shipLocalWriteFailed, "retrying",
                    metadata: [
                        "error": "\(error)", "output.path": "\(output.path)", "retry.delay_ms": "\(delay)",
                    ])
                if !context.stop.sleep(ms: delay) { return false }
            }
        }
    }
}
