import CLinux

/// The calling thread's name, through the CLinux shim (prctl PR_SET_NAME): Glibc does not
/// declare `pthread_setname_np` to Swift. Kept in its own file because CLinux must not meet
/// Glibc in one file.
enum ThreadName {
    /// Sets the name; the kernel keeps the first 15 bytes.
    static func set(_ name: String) {
        _ = tailship_set_thread_name(name)
    }
}
