import Foundation

/// `tailship status`: one row per checkpointed file, from the checkpoint store and the files
/// as they are now on disk.
public struct StatusReport {
    /// A file's reading state, as the `STATE` column shows it.
    public enum State: String, Sendable {
        /// Checkpointed to the file's current end.
        case ok
        /// Bytes remain past the checkpoint, and it moved recently: being read.
        case behind
        /// Bytes remain past the checkpoint and it has not moved for `stallAfterMs`: the file
        /// grows (or holds unread lines) but reading or delivery is stuck.
        case stalled
        /// No file with this identity was found (rotated away, deleted): its row stays until the
        /// running agent prunes it (see docs/rotation.md).
        case gone
    }

    public struct Row: Sendable, Equatable {
        /// Where the file is now, when found; else where it was last seen.
        public var path: String
        public var identity: FileIdentity
        public var offset: UInt64
        /// Size of the file with this identity, when it was found; nil otherwise.
        public var size: UInt64?
        /// Last change of the checkpoint (the last time lines were read and delivered).
        public var updatedMs: Int64
        public var state: State

        public var behind: UInt64? { size.map { $0 > offset ? $0 - offset : 0 } }
    }

    /// A checkpoint that has not moved for this long while bytes remain is flagged `stalled`: 5 min.
    public static let defaultStallAfterMs: Int64 = 300_000

    public var rows: [Row]

    /// Reads the store in `stateDir` and looks for each file: at its last path, else among the
    /// files the `sources` match now (a file renamed since, by device and inode and fingerprint).
    public init(
        stateDir: String, sources: [TailSource] = [], nowMs: Int64 = Int64(Date().timeIntervalSince1970 * 1000),
        stallAfterMs: Int64 = defaultStallAfterMs
    ) throws(CheckpointError) {
        let store = try CheckpointStore(directory: stateDir, createIfMissing: false)
        var elsewhere: [String]?  // matched paths, scanned only if some file is not at its last path
        rows = store.checkpoints.values.sorted { ($0.path, $0.offset) < ($1.path, $1.offset) }.map { checkpoint in
            var found = Self.size(of: checkpoint.identity, at: checkpoint.path).map { (checkpoint.path, $0) }
            if found == nil, !sources.isEmpty {
                if elsewhere == nil { elsewhere = Discovery(sources: sources).scan().files.keys.sorted() }
                for path in elsewhere ?? [] where path != checkpoint.path {
                    if let size = Self.size(of: checkpoint.identity, at: path) {
                        found = (path, size)
                        break
                    }
                }
            }
            let state = Self.state(
                offset: checkpoint.offset, size: found?.1, updatedMs: checkpoint.updatedMs, nowMs: nowMs,
                stallAfterMs: stallAfterMs)
            return Row(
                path: found?.0 ?? checkpoint.path, identity: checkpoint.identity, offset: checkpoint.offset,
                size: found?.1, updatedMs: checkpoint.updatedMs, state: state)
        }
    }

    /// The state of a checkpoint at `offset` of a file of `size` bytes (nil: not found).
    public static func state(offset: UInt64, size: UInt64?, updatedMs: Int64, nowMs: Int64, stallAfterMs: Int64)
        -> State
    {
        guard let size else { return .gone }
        guard size > offset else { return .ok }
        return nowMs - updatedMs > stallAfterMs ? .stalled : .behind
    }

    /// Size of the file at `path` when it is the file with `identity`.
    private static func size(of identity: FileIdentity, at path: String) -> UInt64? {
        guard let status = try? FileStatus.of(path: path), status.inode == identity.inode,
            let file = try? ReadableFile(path: path),
            (try? identity.matches(file)) == true
        else { return nil }
        return try? file.status().size
    }

    /// An aligned table; `-` where no file with the checkpoint's identity was found.
    public func table() -> String {
        var lines = [["PATH", "IDENTITY", "OFFSET", "SIZE", "BEHIND", "UPDATED", "STATE"]]
        let formatter = ISO8601DateFormatter()
        for row in rows {
            lines.append([
                SafeText.escapingControls(row.path), row.identity.description, "\(row.offset)",
                row.size.map { "\($0)" } ?? "-",
                row.behind.map { "\($0)" } ?? "-",
                formatter.string(from: Date(timeIntervalSince1970: Double(row.updatedMs) / 1000)), row.state.rawValue,
            ])
        }
        let widths = (0..<lines[0].count).map { column in lines.map { $0[column].count }.max() ?? 0 }
        return lines.map { cells in
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
