import Foundation

/// Errors of the checkpoint store, with the path involved so the operator knows where to look.
public struct CheckpointError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public var description: String { "\(path): \(message)" }
}

/// Per-file checkpoints keyed by identity, saved atomically as one versioned JSON document.
///
/// Saving writes `<name>.tmp`, fsyncs it, renames it over `<name>` and fsyncs the directory, so
/// after a crash the file is either the old or the new document, never a torn mix. A `.tmp`
/// left by a crash is the unfinished newer write and is discarded at load.
public struct CheckpointStore: Sendable {
    public let directory: String
    public let name: String
    public private(set) var checkpoints: [FileIdentity: Checkpoint] = [:]

    public var path: String { directory + "/" + name }

    /// The live agent's store; `import` keeps its own (`importStoreName`) so a backfill never
    /// moves the daemon's offsets.
    public static let liveStoreName = "checkpoints.json"
    public static let importStoreName = "import-checkpoints.json"

    /// Opens (and, unless `createIfMissing` is false, creates) the store's directory and loads
    /// the saved document; a missing document is an empty store.
    public init(directory: String, name: String = "checkpoints.json", createIfMissing: Bool = true)
        throws(CheckpointError)
    {
        self.directory = directory
        self.name = name
        if createIfMissing { try AtomicFile.createDirectory(directory) }
        if createIfMissing { try? FileManager.default.removeItem(atPath: path + ".tmp") }
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let file: CheckpointFile
        do {
            file = try JSONDecoder().decode(CheckpointFile.self, from: data)
        } catch {
            throw CheckpointError(
                path: path, message: "unreadable checkpoint file (\(error)); move it aside to start over")
        }
        guard file.version == CheckpointFile.currentVersion else {
            throw CheckpointError(
                path: path,
                message:
                    "checkpoint format version \(file.version) is not supported by this tailship (expects \(CheckpointFile.currentVersion))"
            )
        }
        for checkpoint in file.checkpoints { checkpoints[checkpoint.identity] = checkpoint }
    }

    /// The checkpoints recorded for a device and inode: usually zero or one, more after inode
    /// reuse. The tailer picks the one whose fingerprint still matches the file.
    public func checkpoints(device: UInt64, inode: UInt64) -> [Checkpoint] {
        checkpoints.values.filter { $0.identity.device == device && $0.identity.inode == inode }
    }

    public subscript(identity: FileIdentity) -> Checkpoint? { checkpoints[identity] }

    public mutating func update(_ checkpoint: Checkpoint) {
        checkpoints[checkpoint.identity] = checkpoint
    }

    public mutating func remove(_ identity: FileIdentity) {
        checkpoints[identity] = nil
    }

    /// Writes the document atomically (tmp, fsync, rename, fsync the directory).
    public func save() throws(CheckpointError) {
        let document = CheckpointFile(
            version: CheckpointFile.currentVersion,
            checkpoints: checkpoints.values.sorted { $0.path == $1.path ? $0.offset < $1.offset : $0.path < $1.path })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(document) } catch {
            throw CheckpointError(path: path, message: "cannot encode checkpoints: \(error)")
        }
        try AtomicFile.write(data, to: path)
    }
}
