import Foundation

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
        var pid: Any = NSNull()
        var detail: Any = NSNull()
        switch agent {
        case .running(let runningPid):
            agentState = "running"
            pid = runningPid.map { Int($0) } ?? NSNull()
        case .notRunning: agentState = "not_running"
        case .unknown(let why):
            agentState = "unknown"
            detail = why
        }
        var shipper: [String: Any] = ["state": "unknown", "sinceMs": NSNull(), "reason": NSNull()]
        if let state = published?.shipper {
            shipper["state"] = state.name
            if case .retrying(let since, let reason) = state {
                (shipper["sinceMs"], shipper["reason"]) = (since, reason)
            }
            if case .paused(let since, let reason) = state { (shipper["sinceMs"], shipper["reason"]) = (since, reason) }
        }
        let object: [String: Any] = [
            "agent": [
                "state": agentState, "pid": pid, "detail": detail,
                "startedMs": publishedIsCurrent ? published.map { $0.startedMs } ?? NSNull() : NSNull(),
                "publishedMs": published.map { $0.publishedMs } ?? NSNull(),
                "lastKnown": published != nil && !publishedIsCurrent,
                "statusError": publishedProblem ?? NSNull(),
            ] as [String: Any],
            "shipper": shipper,
            "unopenable": (published?.unopenable ?? []).map {
                ["path": $0.path, "error": $0.error, "sinceMs": $0.sinceMs] as [String: Any]
            },
            "files": rows.map { row -> [String: Any] in
                [
                    "path": row.path, "rotatedFrom": row.rotatedFrom ?? NSNull(),
                    "identity": row.identity.description, "offset": row.offset, "size": row.size ?? NSNull(),
                    "behind": row.behind ?? NSNull(), "updatedMs": row.updatedMs, "state": row.state.rawValue,
                ]
            },
            "deadLetters": deadLetters.map { ["count": $0.count, "path": $0.path] as [String: Any] } ?? NSNull(),
        ]
        let data = try? JSONSerialization.data(
            withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// `2026-12-04T21:31:00Z`: seconds are precision enough for a person.
    static func time(_ ms: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// Columns padded to their widest cell, two spaces apart, without trailing blanks.
    static func aligned(_ lines: [[String]]) -> String {
        let widths = (0..<(lines.first?.count ?? 0)).map { column in lines.map { $0[column].count }.max() ?? 0 }
        return lines.map { cells in
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
