#if canImport(Glibc)
    import Glibc
    import Logging

    /// Positions from first sight, on the tail thread: deciding which file a file is and where it
    /// starts, and holding new files back until the sink says their positions are durable.
    extension TailLoop {
        /// Decides which file `file` is and where it starts, and announces that to the sink (the
        /// position must be durable before the file is read: `awaitingDurability`). False when
        /// the file could not be read (it is then closed, to be found again by a later rescan).
        @discardableResult
        func establish(_ file: TailedFile) -> Bool {
            let path = file.path
            do {
                let opening = try file.establish(
                    path: path, resume: resume,
                    log: { self.logger.warning($0, $1, metadata: ["file.path": "\(path)"]) })
                logger.info(
                    .tailFileOpened,
                    metadata: [
                        "file.path": "\(path)", "file.identity": "\(opening.identity)",
                        "file.offset": "\(opening.offset)", "file.start": "\(opening.start?.rawValue ?? "checkpoint")",
                    ])
                sink.fileOpened(opening)
                file.awaitingDurability = opening.start != nil
                return true
            } catch {
                readFailed(path, error)
                remove(file, reason: .failed)
                return false
            }
        }

        /// Whether a file found by the initial scan was created after the previous tailer of this
        /// process stopped watching (see `Tailer.Options.appearedSinceNs`). Without a birth time
        /// it cannot tell, and `start_at` decides.
        func appearedDuringAReload(_ handle: ReadableFile) -> Bool {
            guard let since = options.appearedSinceNs, let born = handle.birthTimeNs() else { return false }
            return born >= since
        }

        /// At most this many files of a burst (and at most `maxOpenFiles`) established and still
        /// open beyond the bound, before their positions are saved together and each is read and
        /// closed (see `rescan`).
        static let burstWave = 32

        /// Waits for the wave's positions to be durable, then reads each file and closes it (or
        /// an older idle one) again. One whose position could not be saved (a full disk) stays
        /// open, unread: over the bound, but never out of reach.
        func readWave(_ wave: inout [TailedFile]) {
            guard !wave.isEmpty else { return }
            _ = sink.waitUntilDurable(timeout: Self.durableWait)
            for file in wave where !file.removed {
                service(file)
                if !park(file) { parkIdle(source: file.source, excess: 1) }
            }
            wave.removeAll()
        }
    }
#endif
