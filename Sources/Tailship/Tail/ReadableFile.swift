#if canImport(Glibc)
    import Glibc

    /// What `fstat(2)`/`stat(2)` tell the tailer about a file.
    public struct FileStatus: Sendable, Hashable {
        public var device: UInt64
        public var inode: UInt64
        public var size: UInt64
        public var isRegular: Bool
        public var isDirectory: Bool
        /// Hard links left; 0 once the file was deleted while still open.
        public var linkCount: UInt64
        /// Last data change (`st_mtim`), nanoseconds since the epoch.
        public var modifiedNs: Int64
        /// Last inode change (`st_ctim`: also moved by truncation and by writes), nanoseconds.
        public var changedNs: Int64
        /// The owner's uid (the link policy checks it on the opened file).
        public var owner: UInt32

        init(_ st: stat) {
            device = UInt64(st.st_dev)
            inode = UInt64(st.st_ino)
            size = UInt64(max(st.st_size, 0))
            isRegular = (st.st_mode & S_IFMT) == S_IFREG
            isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
            linkCount = UInt64(st.st_nlink)
            modifiedNs = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
            changedNs = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
            owner = UInt32(st.st_uid)
        }

        /// Same file, same size, same modification and change times: nothing in it was written,
        /// truncated or replaced between the two looks (see `TailedFile.verified`).
        public func isUnchanged(since other: FileStatus) -> Bool {
            device == other.device && inode == other.inode && size == other.size
                && modifiedNs == other.modifiedNs && changedNs == other.changedNs
        }

        /// `stat(2)` of a path (following symlinks, as the writer does).
        public static func of(path: String) throws(SyscallError) -> FileStatus {
            var st = stat()
            _ = try syscallRetrying("stat", path: path) { stat(path, &st) }
            return FileStatus(st)
        }
    }

    /// An open, read-only file descriptor (`O_RDONLY | O_CLOEXEC`), closed in `deinit`.
    ///
    /// Reads use `pread(2)` at explicit offsets, so the descriptor position never matters and a
    /// renamed or deleted file can still be read to its end.
    public final class ReadableFile {
        public let fileDescriptor: Int32
        /// The path it was opened by (for messages; the file may since have been renamed).
        public let openedPath: String

        /// Opens `path` for reading. `O_NONBLOCK` keeps a FIFO matched by a glob from blocking.
        public init(path: String) throws(SyscallError) {
            fileDescriptor = try syscallRetrying("open", path: path) { open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
            openedPath = path
        }

        /// Takes ownership of an open descriptor.
        init(descriptor: Int32, path: String) {
            fileDescriptor = descriptor
            openedPath = path
        }

        deinit {
            close(fileDescriptor)
        }

        /// `fstat(2)` of the open descriptor.
        public func status() throws(SyscallError) -> FileStatus {
            var st = stat()
            let fd = fileDescriptor
            _ = try syscallRetrying("fstat", path: openedPath) { fstat(fd, &st) }
            return FileStatus(st)
        }

        /// `pread(2)` up to `buffer.count` bytes at `offset`; returns the count read (0 at end of file).
        public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(SyscallError) -> Int {
            guard buffer.count > 0 else { return 0 }
            let fd = fileDescriptor
            return try syscallRetrying("pread", path: openedPath) {
                pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            }
        }

        /// Reads as many bytes as are there up to `buffer.count` (looping over short reads); fewer
        /// means end of file.
        public func readFully(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(SyscallError) -> Int
        {
            var total = 0
            while total < buffer.count {
                let n = try read(
                    into: UnsafeMutableRawBufferPointer(rebasing: buffer[total...]), at: offset + UInt64(total))
                if n == 0 { break }
                total += n
            }
            return total
        }

        /// Exactly `length` bytes at `offset`, or nil when the file ends before.
        public func bytes(at offset: UInt64, length: Int) throws(SyscallError) -> [UInt8]? {
            guard length > 0 else { return [] }
            var result = [UInt8](repeating: 0, count: length)
            let read = try result.withUnsafeMutableBytes { buffer in
                Result { () throws(SyscallError) -> Int in try readFully(into: buffer, at: offset) }
            }.get()
            return read == length ? result : nil
        }
    }
#endif
