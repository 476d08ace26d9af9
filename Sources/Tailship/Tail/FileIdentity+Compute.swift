#if canImport(Glibc)
    import Glibc

    extension FileIdentity {
        /// The 64-bit FNV-1a hash (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of `bytes`.
        public static func fnv1a64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
            return hash
        }

        /// The identity of an open file as first sighted now: its device and inode, and the hash of
        /// its first min(size, `maxFingerprintBytes`) bytes. Nil for an empty file, which has no
        /// identity yet (every empty file would look the same); ask again once it has bytes.
        public static func compute(for file: ReadableFile) throws(SyscallError) -> FileIdentity? {
            let status = try file.status()
            guard status.size > 0 else { return nil }
            let wanted = Int(min(status.size, UInt64(maxFingerprintBytes)))
            guard let hashed = try hashPrefix(of: file, length: wanted) else { return nil }
            return FileIdentity(
                device: status.device, inode: status.inode, fingerprint: hashed, fingerprintLength: wanted)
        }

        /// Whether the open file is still this identity: same device and inode, and the same hash
        /// over the recorded `fingerprintLength` (so a file on a reused inode, or one rewritten in
        /// place, does not match).
        public func matches(_ file: ReadableFile) throws(SyscallError) -> Bool {
            try matches(file, status: file.status())
        }

        /// `matches(_:)` with the descriptor's `fstat` already taken.
        func matches(_ file: ReadableFile, status: FileStatus) throws(SyscallError) -> Bool {
            guard status.device == device, status.inode == inode else { return false }
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
                guard length > 0, length <= bytes.count else { return nil }
                return bytes.withUnsafeBytes { FileIdentity.fnv1a64(UnsafeRawBufferPointer(rebasing: $0[..<length])) }
            }
        }

        /// Hash of exactly the first `length` bytes, or nil when the file is shorter than that.
        static func hashPrefix(of file: ReadableFile, length: Int) throws(SyscallError) -> UInt64? {
            guard length > 0, length <= maxFingerprintBytes else { return nil }
            return try withUnsafeTemporaryAllocation(byteCount: length, alignment: 1) {
                (buffer) throws(SyscallError) -> UInt64? in
                let read = try file.readFully(into: buffer, at: 0)
                guard read == length else { return nil }
                return fnv1a64(UnsafeRawBufferPointer(buffer))
            }
        }
    }
#endif
