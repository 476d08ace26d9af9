import CLinux

extension ReadableFile {
    /// Opens `path`, refusing a symbolic link in any component (`ELOOP`): for a path the link
    /// policy checked (`LinkPolicy`), given as its canonical form, so a link swapped in between
    /// the check and the open is never followed.
    convenience init(noSymlinks path: String) throws(SyscallError) {
        let fd = tailship_open_no_symlinks(path)
        guard fd >= 0 else { throw SyscallError("open", errno: Errno(rawValue: -fd), path: path) }
        self.init(descriptor: fd, path: path)
    }
}
