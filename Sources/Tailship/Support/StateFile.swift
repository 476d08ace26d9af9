#if canImport(Glibc)
    import Glibc
#endif

/// How the agent opens its own files in `state_dir` (checkpoints and their temporary file,
/// dead letters and their rotations, `agent.lock`): never through a symbolic link, never a
/// device or a FIFO, created 0600. A link planted in the state directory makes the open fail
/// (ELOOP) instead of writing through it to whatever it points at (docs/security.md).
enum StateFile {
    /// Mode of every file the agent creates in the state directory.
    static let fileMode: mode_t = 0o600
    /// Mode of a state directory the agent creates.
    static let directoryMode: mode_t = 0o700

    /// Opens `path` with `flags` plus `O_NOFOLLOW` (a link is refused), `O_NONBLOCK` (a FIFO
    /// cannot hang the open) and `O_CLOEXEC`; refuses anything but a regular file. A file of
    /// ours that is readable or writable by group or others (an older tailship made them 0644)
    /// is narrowed to 0600 when `narrowing`, through the descriptor, so no link is involved.
    static func open(_ path: String, flags: Int32, narrowing: Bool = true) throws(SyscallError) -> Int32 {
        let all = flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        let fd = try syscallRetrying("open", path: path) { Glibc.open(path, all, fileMode) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let error = SyscallError("fstat", errno: .current, path: path)
            close(fd)
            throw error
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SyscallError("open (not a regular file)", errno: Errno(rawValue: EINVAL), path: path)
        }
        if narrowing, st.st_uid == geteuid(), st.st_mode & 0o077 != 0 { _ = fchmod(fd, fileMode) }
        return fd
    }

    /// Removes `path` (a file or a link: `unlink` never follows one); a missing file is no error.
    static func removeIfPresent(_ path: String) throws(SyscallError) {
        do {
            _ = try syscallRetrying("unlink", path: path) { unlink(path) }
        } catch  where error.errno == .noEntry {
        }
    }

    /// The size of the open regular file `fd`.
    static func size(of fd: Int32, path: String) throws(SyscallError) -> Int {
        var st = stat()
        _ = try syscallRetrying("fstat", path: path) { fstat(fd, &st) }
        return Int(st.st_size)
    }

    /// The whole content of the state file `path`, nil when it does not exist; refuses (EFBIG)
    /// a file larger than `limit`, so a corrupted or planted file cannot exhaust memory.
    static func read(_ path: String, limit: Int) throws(SyscallError) -> [UInt8]? {
        let fd: Int32
        do {
            fd = try open(path, flags: O_RDONLY, narrowing: false)
        } catch  where error.errno == .noEntry {
            return nil
        }
        defer { close(fd) }
        let size = try size(of: fd, path: path)
        guard size <= limit else { throw SyscallError("read", errno: Errno(rawValue: EFBIG), path: path) }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = try bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(SyscallError) -> Int in
                    try syscallRetrying("pread", path: path) {
                        pread(fd, buffer.baseAddress! + done, size - done, off_t(done))
                    }
                }
            }.get()
            if n == 0 { break }  // truncated meanwhile: what is there
            done += n
        }
        return Array(bytes[..<done])
    }
}

/// The state directory itself: created 0700, and accepted only when it is owned by the user
/// the agent runs as and nobody else can write in it, because whoever can create entries in
/// it can plant links or replace the checkpoints (docs/security.md).
enum StateDirectory {
    /// Nil when `path` is missing (the agent will create it 0700) or is a directory owned by
    /// this user that group and others cannot write; otherwise what is wrong and the fix.
    static func problem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }  // missing, or unreachable: WritableDirectory says
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return nil }
        let uid = geteuid()
        if info.st_uid != uid {
            return "\(path) is owned by uid \(info.st_uid), not by the user tailship runs as (uid \(uid)): "
                + "another user could replace its files; chown \(uid) \(path) (and chmod 700 \(path))"
        }
        let mode = info.st_mode & 0o7777
        if mode & 0o022 != 0 {
            return "\(path) is writable by group or others (mode \(String(mode, radix: 8))): they could plant "
                + "links or replace checkpoints; chmod go-w \(path) (0700 recommended)"
        }
        return nil
    }
}
