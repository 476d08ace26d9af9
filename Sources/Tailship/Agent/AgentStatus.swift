import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// What the running agent publishes in `<state_dir>/agent-status.json` for `tailship status`:
/// who it is, the shipper's state and the files it cannot open. Not a record of progress (that
/// is the checkpoint store): only what the store cannot tell.
public struct AgentStatus: Codable, Sendable, Equatable {
    public static let fileName = "agent-status.json"

    public var pid: Int32
    public var startedMs: Int64
    public var shipper: ShipperState
    public var unopenable: [UnopenableFile]
    /// When this was written (ms since the epoch); not part of what "changed" means.
    public var publishedMs: Int64

    public static func path(stateDir: String) -> String {
        stateDir.hasSuffix("/") ? stateDir + fileName : stateDir + "/" + fileName
    }

    /// The file in `stateDir`; nil when there is none. Throws why it cannot be used (a reader
    /// without the permission: it is mode 0600, the agent's user's).
    public static func read(stateDir: String) throws(CheckpointError) -> AgentStatus? {
        let path = path(stateDir: stateDir)
        // Never through a link, only a regular file, bounded (`StateFile`): a planted
        // `agent-status.json -> /dev/zero` must not hang `status`.
        let bytes: [UInt8]
        do {
            guard let read = try StateFile.read(path, limit: 1 << 20) else { return nil }
            bytes = read
        } catch {
            throw CheckpointError(path: path, message: "cannot be read: \(error.errno)")
        }
        do {
            return try JSONDecoder().decode(AgentStatus.self, from: Data(bytes))
        } catch {
            throw CheckpointError(path: path, message: "not an agent status file (\(error))")
        }
    }
}

extension ShipperState: Codable {
    private enum CodingKeys: String, CodingKey { case state, sinceMs, reason }

    /// `ok`, `retrying` or `paused`: the `state` key of the status file and of `status --json`.
    public var name: String {
        switch self {
        case .ok: "ok"
        case .retrying: "retrying"
        case .paused: "paused"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .state)
        switch self {
        case .ok: break
        case .retrying(let since, let reason), .paused(let since, let reason):
            try container.encode(since, forKey: .sinceMs)
            try container.encode(reason, forKey: .reason)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .state)
        if name == "ok" {
            self = .ok
            return
        }
        let since = try container.decode(Int64.self, forKey: .sinceMs)
        let reason = try container.decode(String.self, forKey: .reason)
        switch name {
        case "retrying": self = .retrying(sinceMs: since, reason: reason)
        case "paused": self = .paused(sinceMs: since, reason: reason)
        default:
            throw DecodingError.dataCorruptedError(forKey: .state, in: container, debugDescription: "unknown state")
        }
    }
}

/// Writes the agent's status file from the agent's own main thread, on its one-second tick,
/// and only when something in it changed: atomically (a reader never sees half of it), mode
/// 0600. A failed write is logged (once per cause, then every 5 minutes) and tried again at the
/// next tick; it never stops the agent.
final class AgentStatusPublisher {
    let path: String
    private let pid = getpid()
    private let startedMs: Int64
    private var written: AgentStatus?
    private var failures = RepeatedProblems<String>(interval: .seconds(300))
    private let logger: Logger

    init(stateDir: String, startedMs: Int64, logger: Logger) {
        path = AgentStatus.path(stateDir: stateDir)
        self.startedMs = startedMs
        self.logger = logger
    }

    func publish(shipper: ShipperState, unopenable: [UnopenableFile]) {
        let nowMs = WallClock.nowMs()
        var status = AgentStatus(
            pid: pid, startedMs: startedMs, shipper: shipper, unopenable: unopenable, publishedMs: nowMs)
        if var last = written {
            last.publishedMs = nowMs
            if last == status { return }
        }
        status.publishedMs = nowMs
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            try AtomicFile.write(try encoder.encode(status), to: path)
            written = status
            _ = failures.resolved(path)
        } catch {
            if let repeats = failures.occurred(path, cause: "\(error)", now: .now, wallMs: nowMs) {
                var metadata: Logger.Metadata = ["status.path": "\(path)", "error": "\(error)"]
                if repeats > 0 { metadata["repeats.suppressed"] = "\(repeats)" }
                logger.warning(.agentStatusWriteFailed, "`tailship status` shows an older state", metadata: metadata)
            }
        }
    }
}
