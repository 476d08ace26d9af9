import CLinux

/// Whether anyone but the user tailship runs as (and root) may read or write a secret file.
///
/// The mode's group and other bits say so, except on a file with a POSIX access ACL: there the
/// group bits are the ACL's mask, and what counts is each entry. systemd's `LoadCredential=`
/// gives the service's user read access by such an entry (mode shows 0440), which is exactly
/// what a secret should have; any other user or group entry, or the owning group or others with
/// access, make it exposed.
enum SecretFileAccess {
    private static let userObj: UInt16 = 0x01
    private static let user: UInt16 = 0x02
    private static let groupObj: UInt16 = 0x04
    private static let group: UInt16 = 0x08
    private static let mask: UInt16 = 0x10
    private static let readWrite: UInt16 = 0o6

    /// True when the open file `fd` (of `mode`) is readable or writable by anyone but its owner,
    /// root and the user `euid` tailship runs as.
    static func isExposed(fd: Int32, mode: UInt32, euid: UInt32) -> Bool {
        if mode & 0o006 != 0 { return true }  // others: the mode is authoritative for them
        guard let entries = accessACL(fd) else { return mode & 0o060 != 0 }
        let maskPerm = entries.first { $0.tag == mask }?.perm ?? 0o7
        for entry in entries {
            let effective = entry.perm & maskPerm & readWrite
            switch entry.tag {
            case user where entry.id != euid && entry.id != 0: if effective != 0 { return true }
            case groupObj, group: if effective != 0 { return true }
            default: break
            }
        }
        return false
    }

    /// The entries of the file's access ACL (`system.posix_acl_access`, version 2: a 4-byte
    /// header, then 8-byte entries of tag, permissions, id); nil when it has none.
    private static func accessACL(_ fd: Int32) -> [(tag: UInt16, perm: UInt16, id: UInt32)]? {
        var buffer = [UInt8](repeating: 0, count: 4 + 8 * 64)
        let n = buffer.withUnsafeMutableBytes { tailship_access_acl(fd, $0.baseAddress, UInt($0.count)) }
        guard n >= 4, (n - 4) % 8 == 0 else { return nil }
        func u16(_ at: Int) -> UInt16 { UInt16(buffer[at]) | UInt16(buffer[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
        return stride(from: 4, to: Int(n), by: 8).map { (tag: u16($0), perm: u16($0 + 2), id: u32($0 + 4)) }
    }
}
