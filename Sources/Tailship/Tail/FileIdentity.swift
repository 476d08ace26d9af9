/// What makes a log file the same file across renames: device and inode, plus a fingerprint of
/// its first bytes so a new file on a reused inode is told apart. Never the path.
public struct FileIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    public var device: UInt64
    public var inode: UInt64
    /// 64-bit FNV-1a hash of the first `fingerprintLength` bytes.
    public var fingerprint: UInt64
    /// How many leading bytes the fingerprint covers: min(size, `maxFingerprintBytes`) when the
    /// file was first seen non-empty. Fixed from then on, so a short file that grows keeps its
    /// identity (and so its `$insert_id`s) and is still read without waiting for more bytes.
    public var fingerprintLength: Int

    public static let maxFingerprintBytes = 1024

    public init(device: UInt64, inode: UInt64, fingerprint: UInt64, fingerprintLength: Int) {
        self.device = device
        self.inode = inode
        self.fingerprint = fingerprint
        self.fingerprintLength = fingerprintLength
    }

    /// Stable text form, used as the checkpoint key and as input of the default `$insert_id`.
    public var description: String {
        "\(String(device, radix: 16)):\(String(inode, radix: 16)):\(String(fingerprint, radix: 16)):\(fingerprintLength)"
    }
}
