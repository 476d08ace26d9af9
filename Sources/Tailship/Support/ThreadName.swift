import CLinux

/// Names the calling thread for the kernel, so `top -H`, `perf` and `/proc/PID/task/*/comm`
/// (which scripts/bench.sh reads for its per-stage CPU split) tell the agent's threads apart.
/// Foundation's `Thread.name` does not do that on Linux: without this, every thread is
/// `tailship`. The kernel keeps at most 15 bytes, so names are chosen to fit.
enum ThreadName {
    static func setCurrent(_ name: String) {
        precondition(name.utf8.count <= 15, "a thread name the kernel would cut: \(name)")
        // The result is ignored on purpose: a name only helps observation, and it cannot fail
        // for the calling thread with a name that fits.
        _ = tailship_set_thread_name(name)
    }
}
