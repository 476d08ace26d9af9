import Synchronization

/// What the shipper is doing about delivery, for `tailship status`: delivering, retrying after
/// failures, or paused on refused credentials.
public enum ShipperState: Sendable, Equatable {
    case ok
    /// Requests fail (429, 5xx, timeouts, unconfirmed answers, a local write error) since
    /// `sinceMs` (ms since the epoch); `reason` is the last failure.
    case retrying(sinceMs: Int64, reason: String)
    /// The API refused the credentials since `sinceMs`: nothing new is sent until they pass.
    case paused(sinceMs: Int64, reason: String)
}

/// The shipper's state, set by its delivery thread at each answer and read by the agent's
/// status publisher. Each batch answer takes the lock once: a few times a second at most.
final class ShipperHealth: Sendable {
    private let state = Mutex(ShipperState.ok)

    var current: ShipperState { state.withLock { $0 } }

    /// A request got through (accepted, split, rejected for good).
    func delivered() {
        state.withLock { $0 = .ok }
    }

    /// A request failed and will be retried; `since` stays that of the first failure of a kind.
    func failed(reason: String, credentialsRefused: Bool, nowMs: Int64) {
        state.withLock { state in
            switch (state, credentialsRefused) {
            case (.paused(let since, _), true): state = .paused(sinceMs: since, reason: reason)
            case (.retrying(let since, _), false): state = .retrying(sinceMs: since, reason: reason)
            case (_, true): state = .paused(sinceMs: nowMs, reason: reason)
            case (_, false): state = .retrying(sinceMs: nowMs, reason: reason)
            }
        }
    }
}
