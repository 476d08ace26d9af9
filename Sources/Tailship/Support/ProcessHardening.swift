import CLinux

/// What a process holding secrets does to itself at start (docs/security.md).
public enum ProcessHardening {
    /// Makes the process non-dumpable: a crash writes no core holding the secret, and other
    /// processes of the same user cannot ptrace it or read its memory through /proc. Returns
    /// false if the kernel refused (the agent runs on; the unit's LimitCORE=0 still holds).
    @discardableResult
    public static func disableCoreDumps() -> Bool {
        tailship_set_not_dumpable() == 0
    }
}
