#if canImport(Glibc)
    import Glibc
    import Logging

    /// Bounding open descriptors (`max_open_files`): parking idle files and finding them again.
    extension TailLoop {
        /// Reopens a parked file at `path` (its own or the one it was renamed to); false when the
        /// path no longer names its device and inode, or cannot be opened.
        @discardableResult
        func unpark(_ file: TailedFile, at path: String, sameContent: Bool = false) -> Bool {
            do {
                guard try file.reopen(at: path, sameContent: sameContent) else { return false }
                openCounts[file.source] += 1
                boundDirty = true
                return true
            } catch {
                return false
            }
        }

        /// A parked file no glob matches any more: renamed away or deleted while it had no
        /// descriptor. When it is found at its new name (paired inotify move events, or its inode
        /// in the same directory), it is reopened there and drained like any renamed file;
        /// otherwise it is closed, its unread appends (if any) out of reach (docs/rotation.md,
        /// "Bounded descriptors").
        func settleParkedAndGone(_ file: TailedFile) {
            // The paired move events may still be unread (or lost): a rename within the directory
            // is also found by the inode among the directory's entries. A name found either way
            // must still hold this file's content (the inode may have been freed and reused by a
            // file no glob matches, or one excluded: never to be read).
            var candidates = [file.movedTo].compactMap { $0 }
            if file.key != nil {
                candidates += Glob.entries(in: Discovery.parent(of: file.path), inode: file.inode)
            }
            for destination in candidates where unpark(file, at: destination, sameContent: file.key != nil) {
                file.path = destination
                return  // now open: the draining pass below takes it
            }
            logger.info(.tailFileGoneWhileClosed, metadata: ["file.path": "\(file.path)"])
            let id = file.id
            file.splitter.flush { sink.lines(file: id, $0) }
            remove(file, reason: .rotated)
        }

        /// Closes the least recently active idle, fully read files of each source beyond its
        /// `maxOpenFiles`. Files being drained, read or checked as copies stay open whatever the
        /// count: the bound is on idle descriptors.
        func enforceOpenBound() {
            boundDirty = false
            for (source, count) in openCounts.enumerated() where count > discovery.sources[source].maxOpenFiles {
                parkIdle(source: source, excess: count - discovery.sources[source].maxOpenFiles)
            }
        }

        func isOverBound(_ source: Int) -> Bool {
            openCounts[source] > discovery.sources[source].maxOpenFiles
        }

        /// Parks `file` if it is idle and read to its end; keeps the count.
        @discardableResult
        func park(_ file: TailedFile) -> Bool {
            guard (try? file.park()) == true else { return false }
            openCounts[file.source] -= 1
            return true
        }

        /// Parks up to `excess` idle files of `source`, least recently active first; returns how many.
        @discardableResult
        func parkIdle(source: Int, excess: Int) -> Int {
            var parked = 0
            let idle = files.filter { $0.source == source && $0.isParkable }.sorted { $0.lastActive < $1.lastActive }
            for file in idle where parked < excess {
                if park(file) { parked += 1 }
            }
            return parked
        }
    }
#endif
