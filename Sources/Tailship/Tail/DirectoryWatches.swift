#if canImport(Glibc)
    import Glibc
    import Logging

    /// The tailer's inotify watches on directories, kept in step with what discovery asks for.
    ///
    /// A watch belongs to a directory's inode, not its path: `inotify_add_watch` follows symlinks,
    /// and two paths naming one directory (a symlinked log directory and its target) share one
    /// watch. So each watch keeps every path it was added for (an event names an entry of all of
    /// them), and a path whose device and inode changed (a directory symlink retargeted, or a
    /// directory replaced) is watched again. Confined to the tail thread.
    struct DirectoryWatches {
        /// What a watched path named when it was added.
        private struct Watched {
            var watch: Inotify.Watch
            var device: UInt64
            var inode: UInt64
        }

        private var byPath: [String: Watched] = [:]
        private var pathsByWatch: [Int32: [String]] = [:]
        /// Every directory asked for at the last update is watched: the safety rescan can be rare.
        private(set) var isComplete = true
        /// The kernel's watch table is full: said once in the log (then at most once per
        /// `TailLoop.fallbackLogInterval`, with a count), never per directory.
        private var limitNotice = FallbackNotice()
        /// Directories that cannot be watched (permissions): tried at every rescan, logged once per
        /// directory and cause, then at most every `TailLoop.repeatLogInterval`.
        private var failures = RepeatedProblems<String>(interval: TailLoop.repeatLogInterval)

        static let mask: Inotify.Mask = [
            .create, .movedTo, .movedFrom, .delete, .modify, .deleteSelf, .moveSelf, .onlyDirectory,
        ]

        /// The watched paths an event's watch stands for (empty for an unknown watch).
        func directories(of watch: Inotify.Watch) -> [String] {
            pathsByWatch[watch.rawValue] ?? []
        }

        /// The kernel removed `watch` (`IN_IGNORED`: its directory is gone): forget it.
        mutating func forget(_ watch: Inotify.Watch) {
            for path in pathsByWatch.removeValue(forKey: watch.rawValue) ?? [] { byPath[path] = nil }
        }

        /// Watches exactly `directories`: drops the others, adds the new ones, and re-adds a path
        /// that now names another directory. A full watch table is logged (rate-limited); the
        /// periodic rescan is then the reconcile for the directories left unwatched. Returns
        /// whether a watch was added: what was created there before it existed was not reported.
        mutating func update(
            _ directories: Set<String>, inotify: Inotify, logger: Logger, now: ContinuousClock.Instant,
            logInterval: Duration
        ) -> Bool {
            for (path, watched) in byPath where !directories.contains(path) {
                detach(path, from: watched.watch, inotify: inotify)
            }
            var added = false
            isComplete = true
            if !failures.isEmpty { failures.forget { !directories.contains($0) } }
            for path in directories {
                guard let status = try? FileStatus.of(path: path), status.isDirectory else { continue }
                if let watched = byPath[path] {
                    if watched.device == status.device && watched.inode == status.inode { continue }
                    detach(path, from: watched.watch, inotify: inotify)
                }
                do {
                    let watch = try inotify.addWatch(path: path, mask: Self.mask)
                    byPath[path] = Watched(watch: watch, device: status.device, inode: status.inode)
                    pathsByWatch[watch.rawValue, default: []].append(path)
                    added = true
                    if !failures.isEmpty { _ = failures.resolved(path) }
                } catch  where error.errno.rawValue == ENOSPC {
                    isComplete = false
                    if let count = limitNotice.shouldLog(now: now, interval: logInterval) {
                        logger.warning(
                            .tailWatchLimitReached,
                            "inotify watch table full (fs.inotify.max_user_watches); new files there are found by the periodic full rescan",
                            metadata: ["dir.path": "\(path)", "failures": "\(count)"])
                    }
                } catch {
                    isComplete = false
                    if let repeats = failures.occurred(path, cause: "\(error)", now: now, wallMs: WallClock.nowMs()) {
                        var metadata: Logger.Metadata = ["dir.path": "\(path)", "error": "\(error)"]
                        if repeats > 0 { metadata["repeats.suppressed"] = "\(repeats)" }
                        logger.warning(.tailWatchFailed, metadata: metadata)
                    }
                }
            }
            return added
        }

        /// Stops watching `path`; the watch itself is removed once no path uses it.
        private mutating func detach(_ path: String, from watch: Inotify.Watch, inotify: Inotify) {
            byPath[path] = nil
            var paths = pathsByWatch[watch.rawValue] ?? []
            paths.removeAll { $0 == path }
            if paths.isEmpty {
                pathsByWatch[watch.rawValue] = nil
                try? inotify.removeWatch(watch)
            } else {
                pathsByWatch[watch.rawValue] = paths
            }
        }
    }
#endif
