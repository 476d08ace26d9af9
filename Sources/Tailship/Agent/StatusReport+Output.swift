#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What `tailship status` prints: an aligned text for people, `--json` for scripts.
extension StatusReport {
    /// The agent's published status when it belongs to the running agent; else the last one
    /// published, if any (`current` false). A running agent that has not published yet: none.
    static func publishedStatus(stateDir: String, agent: StateDirectoryLock.Holder) -> (
        AgentStatus?, current: Bool, problem: String?
    ) {
        let status: AgentStatus?
        do {
            status = try AgentStatus.read(stateDir: stateDir)
        } catch {
            return (nil, false, error.description)
        }
        guard case .running(let pid) = agent else { return (status, false, nil) }
        guard let status, pid == nil || status.pid == pid else { return (nil, false, nil) }
        return (status, true, nil)
    }

    /// The agent and shipper lines, the files that cannot be opened, one row per checkpointed
    /// file, and the dead letters.
    public func text() -> String {
        var out = ["AGENT    " + agentText(), "SHIPPER  " + shipperText()]
        if let unopenable = published?.unopenable, !unopenable.isEmpty {
            out.append("")
            var lines = [["CANNOT OPEN", "SINCE", "ERROR"]]
            for file in unopenable {
                lines.append([
                    SafeText.escapingControls(file.path), Self.time(file.sinceMs),
                    SafeText.escapingControls(file.error),
                ])
            }
            out.append(Self.aligned(lines))
        }
        out.append("")
        out.append(table())
        if let deadLetters {
            out.append("")
            out.append("DEAD LETTERS  \(deadLetters.count)  \(deadLetters.path)")
        }
        return out.joined(separator: "\n")
    }

    /// An aligned table of the checkpointed files; `-` where no file with the checkpoint's
    /// identity was found, FROM only for a file found away from its recorded path.
    public func table() -> String {
        var lines = [["PATH", "IDENTITY", "OFFSET", "SIZE", "BEHIND", "UPDATED", "STATE", "FROM"]]
        for row in rows {
            lines.append([
                SafeText.escapingControls(row.path), row.identity.description, "\(row.offset)",
                row.size.map { "\($0)" } ?? "-", row.behind.map { "\($0)" } ?? "-", Self.time(row.updatedMs),
                row.state.rawValue, SafeText.escapingControls(row.rotatedFrom ?? ""),
            ])
        }
        return Self.aligned(lines)
    }

    private func agentText() -> String {
        let lastKnown = published.map {
            "the state below is the last one pid \($0.pid) published, at \(Self.time($0.publishedMs))"
        }
        switch agent {
        case .running(let pid):
            let started = publishedIsCurrent ? published.map { ", started \(Self.time($0.startedMs))" } ?? "" : ""
            return "running, pid \(pid.map { "\($0)" } ?? "unknown")\(started)"
        case .notRunning:
            return "not running" + (lastKnown.map { " (\($0))" } ?? "")
        case .unknown(let why):
            return "unknown: \(why)" + (lastKnown.map { " (\($0))" } ?? "")
        }
    }

    private func shipperText() -> String {
        guard let shipper = published?.shipper else {
            if let publishedProblem { return "unknown (\(publishedProblem))" }
            if case .running = agent { return "unknown (the agent has not published its status yet)" }
            return "unknown (no agent status published)"
        }
        let label = publishedIsCurrent ? "" : " (last known)"
        switch shipper {
        case .ok: return "ok" + label
        case .retrying(let since, let reason):
            return "retrying since \(Self.time(since)) (last failure: \(reason))" + label
        case .paused(let since, let reason):
            return "paused: credentials refused since \(Self.time(since)) (last answer: \(reason))" + label
        }
    }

    /// One JSON object with everything `text()` shows (docs/operations.md lists the fields).
    public func json() -> String {
        let agentState: String
        var pid = StatusJSON.null
        var detail = StatusJSON.null
        switch agent {
        case .running(let runningPid):
            agentState = "running"
            pid = runningPid.map { .int(Int64($0)) } ?? .null
        case .notRunning: agentState = "not_running"
        case .unknown(let why):
            agentState = "unknown"
            detail = .string(why)
        }
        var shipper: [String: StatusJSON] = ["state": "unknown", "sinceMs": .null, "reason": .null]
        if let state = published?.shipper {
            shipper["state"] = .string(state.name)
            if case .retrying(let since, let reason) = state {
                (shipper["sinceMs"], shipper["reason"]) = (.int(since), .string(reason))
            }
            if case .paused(let since, let reason) = state {
                (shipper["sinceMs"], shipper["reason"]) = (.int(since), .string(reason))
            }
        }
        let object: StatusJSON = [
            "agent": [
                "state": .text(agentState), "pid": pid, "detail": detail,
                "startedMs": .int(publishedIsCurrent ? published?.startedMs : nil),
                "publishedMs": .int(published?.publishedMs),
                "lastKnown": .bool(published != nil && !publishedIsCurrent),
                "statusError": .string(publishedProblem),
            ],
            "shipper": .object(shipper),
            "unopenable": .array(
                (published?.unopenable ?? []).map {
                    ["path": .string($0.path), "error": .string($0.error), "sinceMs": .int($0.sinceMs)]
                }),
            "files": .array(
                rows.map { row -> StatusJSON in
                    [
                        "path": .string(row.path), "rotatedFrom": .string(row.rotatedFrom),
                        "identity": .string(row.identity.description), "offset": .int(row.offset),
                        "size": .int(row.size), "behind": .int(row.behind), "updatedMs": .int(row.updatedMs),
                        "state": .string(row.state.rawValue),
                    ]
                }),
            "deadLetters": deadLetters.map { ["count": .int($0.count), "path": .string($0.path)] } ?? .null,
        ]
        return object.rendered()
    }

    /// `2026-12-04T21:31:00Z`: seconds are precision enough for a person.
    static func time(_ ms: Int64) -> String {
        UTCTimestamp.string(ms: ms, milliseconds: false)
    }

    /// Columns padded to their widest cell, two spaces apart, without trailing blanks.
    static func aligned(_ lines: [[String]]) -> String {
        let widths = (0..<(lines.first?.count ?? 0)).map { column in lines.map { $0[column].count }.max() ?? 0 }
        return lines.map { cells in
            cells.enumerated().map { $1 + String(repeating: " ", count: max(0, widths[$0] - $1.count)) }
                .joined(separator: "  ").trimmingWhitespace(newlines: false)
        }.joined(separator: "\n")
    }
}
