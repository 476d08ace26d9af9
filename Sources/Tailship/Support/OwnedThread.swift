#if canImport(Glibc)
    import Glibc
#endif

/// Starts the threads tailship owns (reading, checkpoints, delivery, metrics) straight on
/// pthreads: Foundation's `Thread` is the only reason to link full Foundation (and its ICU
/// tables, several MiB of resident memory). The name is what `/proc/PID/task/*/comm` and `top -H`
/// show, so a stage's CPU time can be read per thread; Linux keeps the first 15 bytes.
public enum OwnedThread {
    /// Runs `body` on a new detached thread named `name`. A failure to create one (the process is
    /// out of threads or memory) is fatal: every stage depends on its thread.
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let result = pthread_create(
            &thread, &attributes,
            { raw in
                let start = Unmanaged<OwnedThread.Start>.fromOpaque(raw!).takeRetainedValue()
                start.run()
                return nil
            }, box)
        guard result == 0 else {
            Unmanaged<Start>.fromOpaque(box).release()
            fatalError("pthread_create for \(name): \(Errno(rawValue: result))")
        }
    }

    /// The name and body handed to the new thread.
    final class Start {
        let name: String
        let body: @Sendable () -> Void

        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }

        func run() {
            // prctl cuts the name at 15 bytes; keep whole characters up to that.
            var short = ""
            for character in name where short.utf8.count + character.utf8.count <= 15 { short.append(character) }
            ThreadName.set(short)
            body()
        }
    }
}
