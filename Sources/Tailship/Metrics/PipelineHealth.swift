/// The `/healthz` verdict from what the pipeline shows: healthy, or the first problem that has
/// lasted `unhealthy_after`, as one line.
struct PipelineHealth {
    struct Inputs {
        var nowMs: Int64
        var thresholdMs: Int64
        var shipper: ShipperState
        /// When the reading thread last began a turn (nil: no pipeline yet).
        var lastTurnMs: Int64?
        /// The first file whose checkpoint has stood still, with bytes behind it, for the
        /// threshold (not a partial last line): its path, bytes behind and for how long.
        var stalled: (path: String, behind: UInt64, forMs: Int64)?
        /// Progress made that waits to be saved, and when the checkpoints were last saved.
        var unsaved: Bool
        var lastSaveMs: Int64
    }

    /// nil when healthy, else the reason.
    static func problem(_ inputs: Inputs) -> String? {
        let threshold = inputs.thresholdMs
        switch inputs.shipper {
        case .ok: break
        case .retrying(let since, let reason):
            if inputs.nowMs - since >= threshold {
                return "shipper retrying for \(duration(inputs.nowMs - since)): \(reason)"
            }
        case .paused(let since, let reason):
            if inputs.nowMs - since >= threshold {
                return "shipping paused for \(duration(inputs.nowMs - since)) (credentials refused): \(reason)"
            }
        }
        if let turn = inputs.lastTurnMs, inputs.nowMs - turn >= threshold {
            return "the reading thread has not turned for \(duration(inputs.nowMs - turn))"
        }
        // While the shipper fails, files stall because of it: its own clock says when that is
        // a problem, and the answer names the cause rather than a consequence.
        guard inputs.shipper == .ok else { return nil }
        if let stalled = inputs.stalled {
            return
                "file stalled for \(duration(stalled.forMs)): \(stalled.path) (\(stalled.behind) bytes behind its checkpoint)"
        }
        if inputs.unsaved, inputs.nowMs - inputs.lastSaveMs >= threshold {
            return "checkpoints not saved for \(duration(inputs.nowMs - inputs.lastSaveMs)) with progress to save"
        }
        return nil
    }

    /// `75s` → `1m15s`.
    static func duration(_ ms: Int64) -> String {
        let seconds = max(0, ms / 1000)
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(seconds % 60)s" }
        return "\(seconds / 3600)h\(seconds % 3600 / 60)m"
    }
}
