/// What makes a log file the same file across renames and restarts: its inode and a
/// fingerprint of its first bytes, never its path. The device is where the file was last seen,
/// a hint rather than part of the identity: where `st_dev` changes across a reboot (LVM,
/// device-mapper, overlayfs), a file at its recorded path with its recorded inode and first
/// bytes is still recognised (see `CheckpointStore.resumeDecision`).
///
/// The fingerprint covers the first `fingerprintLength` bytes, min(size, 1 KiB). A file first
/// seen with fewer bytes (even none) gets a fingerprint of what it had, *upgraded in place* as
/// it grows (the new bytes are hashed on top of the ones already verified) until it covers
/// 1 KiB; the identity is never derived afresh, and `$insert_id`s do not depend on it at all
/// (see `InsertID`), so growing never re-keys a line.
public struct FileIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    public var device: UInt64
    public var inode: UInt64
    /// FNV-1a-64 of the first `fingerprintLength` bytes (`FNV64.offsetBasis` for none).
    public var fingerprint: UInt64
    /// How many leading bytes the fingerprint covers: 0 ... `maxFingerprintBytes`.
    public var fingerprintLength: Int

    public static let maxFingerprintBytes = 1024

    public init(device: UInt64, inode: UInt64, fingerprint: UInt64, fingerprintLength: Int) {
        self.device = device
        self.inode = inode
        self.fingerprint = fingerprint
        self.fingerprintLength = fingerprintLength
    }

    /// The identity of a file whose first bytes are `head` (at most `maxFingerprintBytes`).
    public init(device: UInt64, inode: UInt64, head: UnsafeRawBufferPointer) {
        let length = min(head.count, Self.maxFingerprintBytes)
        self.init(
            device: device, inode: inode, fingerprint: FNV64.hash(UnsafeRawBufferPointer(rebasing: head[0..<length])),
            fingerprintLength: length)
    }

    /// Whether the fingerprint covers as much as it ever will.
    public var isComplete: Bool { fingerprintLength >= Self.maxFingerprintBytes }

    /// The same file with its fingerprint extended to `head` (the file's first bytes, more than
    /// are covered now), or nil when `head` does not begin with the bytes already covered: the
    /// file was rewritten.
    public func upgraded(head: UnsafeRawBufferPointer) -> FileIdentity? {
        guard head.count > fingerprintLength, !isComplete else { return self }
        guard FNV64.hash(UnsafeRawBufferPointer(rebasing: head[0..<fingerprintLength])) == fingerprint else {
            return nil
        }
        return FileIdentity(device: device, inode: inode, head: head)
    }

    /// Text form for logs and `status`: `<device>:<inode>:<fingerprint>/<length>` in hex.
    public var description: String {
        "\(String(device, radix: 16)):\(String(inode, radix: 16)):\(String(fingerprint, radix: 16))/\(fingerprintLength)"
    }
}

/// The stable name of one tracked file in the checkpoint store, drawn at random when the file
/// is first seen and kept for as long as it is tracked: the identity's fingerprint grows and its
/// device may change, the key does not.
public struct FileKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var raw: UInt64

    public init(raw: UInt64) {
        self.raw = raw
    }

    /// A fresh key (64 random bits: never reused in practice).
    public static func random() -> FileKey {
        var generator = SystemRandomNumberGenerator()
        return FileKey(raw: generator.next())
    }

    public var description: String {
        let hex = String(raw, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let raw = UInt64(text, radix: 16) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a file key: \(text)"))
        }
        self.raw = raw
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
