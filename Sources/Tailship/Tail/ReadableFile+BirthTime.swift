import CLinux

extension ReadableFile {
    /// When the file was created (`statx`'s `STATX_BTIME`), in nanoseconds since the epoch; nil
    /// where the file system does not record it.
    func birthTimeNs() -> Int64? {
        let ns = tailship_birth_time_ns(fileDescriptor)
        return ns < 0 ? nil : Int64(ns)
    }
}
