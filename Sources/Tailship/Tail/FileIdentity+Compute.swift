#if canImport(Glibc)
    import Glibc

    extension FileIdentity {
        /// The identity of an open file as first sighted now: its device and inode, and the hash of
        /// its first min(size, `maxFingerprintBytes`) bytes (none for an empty file).
        public static func compute(for file: ReadableFile) throws(SyscallError) -> FileIdentity {
            let status = try file.status()
            let head = try Head(of: file, size: status.size)
            return head.bytes.withUnsafeBytes { FileIdentity(device: status.device, inode: status.inode, head: $0) }
        }

        /// Whether the open file is still this identity: the same inode, and the same hash over the
        /// recorded `fingerprintLength` (so a file on a reused inode, or one rewritten in place, does
        /// not match). The device is not compared: an open descriptor cannot change devices, and a
        /// renumbered device is the checkpoint store's concern.
        public func matches(_ file: ReadableFile) throws(SyscallError) -> Bool {
            try matches(file, status: file.status())
        }

        /// `matches(_:)` with the descriptor's `fstat` already taken.
        func matches(_ file: ReadableFile, status: FileStatus) throws(SyscallError) -> Bool {
            guard status.inode == inode else { return false }
            guard let hashed = try FileIdentity.hashPrefix(of: file, length: fingerprintLength) else { return false }
            return hashed == fingerprint
        }

        /// The first bytes of a file, read once, for comparing it with many recorded fingerprints
        /// (a possible copy against every file held): each hash comes from memory.
        struct Head {
            /// Up to `maxFingerprintBytes` first bytes (fewer when the file is shorter).
            let bytes: [UInt8]

            init(of file: ReadableFile, size: UInt64) throws(SyscallError) {
                let length = Int(min(size, UInt64(FileIdentity.maxFingerprintBytes)))
                bytes = try file.bytes(at: 0, length: length) ?? []
            }

            /// Hash of exactly the first `length` bytes (as `hashPrefix`), nil when shorter.
            func hash(_ length: Int) -> UInt64? {
                guard length <= bytes.count else { return nil }
                return bytes.withUnsafeBytes { FNV64.hash(UnsafeRawBufferPointer(rebasing: $0[..<length])) }
            }
        }

        /// Hash of exactly the first `length` bytes, or nil when the file is shorter than that.
        static func hashPrefix(of file: ReadableFile, length: Int) throws(SyscallError) -> UInt64? {
            guard length > 0 else { return FNV64.offsetBasis }
            guard length <= maxFingerprintBytes else { return nil }
            return try withUnsafeTemporaryAllocation(byteCount: length, alignment: 1) {
                (buffer) throws(SyscallError) -> UInt64? in
                let read = try file.readFully(into: buffer, at: 0)
                guard read == length else { return nil }
                return FNV64.hash(UnsafeRawBufferPointer(buffer))
            }
        }
    }
#endif
