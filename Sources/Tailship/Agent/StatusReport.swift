import Foundation

/// `tailship status`: one row per checkpointed file, from the checkpoint store and the files
/// as they are now on disk.
public struct StatusReport {
    public struct Row: Sendable, Equatable {
        public var path: String
        public var identity: FileIdentity
        public var offset: UInt64
        /// Size of the file with this identity, when it is still at `path`; nil otherwise.
        public var size: UInt64?
        public var updatedMs: Int64

        public var behind: UInt64? { size.map { $0 > offset ? $0 - offset : 0 } }
    }

    public var rows: [Row]

    /// Reads the store in `stateDir` and looks at each file's path.
    public init(stateDir: String) throws(CheckpointError) {
        let store = try CheckpointStore(directory: stateDir, createIfMissing: false)
        rows = store.checkpoints.values.sorted { ($0.path, $0.offset) < ($1.path, $1.offset) }.map { checkpoint in
            var size: UInt64?
            if let file = try? ReadableFile(path: checkpoint.path), (try? checkpoint.identity.matches(file)) == true {
                size = try? file.status().size
            }
            return Row(path: checkpoint.path, identity: checkpoint.identity, offset: checkpoint.offset, size: size,
                       updatedMs: checkpoint.updatedMs)
        }
    }

    /// An aligned table; `-` where the file at the path is no longer the checkpointed one.
    public func table() -> String {
        var lines = [["PATH", "IDENTITY", "OFFSET", "SIZE", "BEHIND", "UPDATED"]]
        let formatter = ISO8601DateFormatter()
        for row in rows {
            lines.append([
                row.path, row.identity.description, "\(row.offset)", row.size.map { "\($0)" } ?? "-",
                row.behind.map { "\($0)" } ?? "-",
                formatter.string(from: Date(timeIntervalSince1970: Double(row.updatedMs) / 1000)),
            ])
        }
        let widths = (0..<6).map { column in lines.map { $0[column].count }.max() ?? 0 }
        return lines.map { cells in
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
