#if canImport(Glibc)
    import FoundationEssentials
    import Glibc
    import Logging
    import Synchronization

    /// The tail thread's state and loop: discovery, directory watches, reading, rotation.
    ///
    /// Everything here is touched only by the tail thread once `run()` starts, except `stopping`
    /// (atomic), `published` and `unopenable` (mutexes): hence `@unchecked Sendable`.
    final class TailLoop: @unchecked Sendable {
        struct Options {
            var chunkSize: Int
            var chunksPerTurn: Int
            var pollIntervalMs: Int32
            var rescanInterval: Duration
            var unwatchedRescanInterval: Duration
            var drainGrace: Duration
            var appearedSinceNs: Int64?
        }

        let stopping = Atomic<Bool>(false)
        let published = Mutex<[TailedFileStatus]>([])

        /// Matched paths that cannot be opened, for `tailship status` (see `publishUnopenable`).
        let unopenable = Mutex<[UnopenableFile]>([])

        let discovery: Discovery
        let sink: any LineSink
        let resume: ResumeLookup
        let options: Options
        let logger: Logger
        private let inotify: Inotify
        private let wakeup: Wakeup

        var files: [TailedFile] = []
        var byPath: [String: TailedFile] = [:]
        private var watches = DirectoryWatches()
        /// Matched symlinks by the path of the file they resolve to, whose directory is watched
        /// too: a write to the target is reported under its own name (from the last full scan).
        private var linkTargets: [String: [String]] = [:]
        /// Links the last full scan refused, why and since when (each logged once, and listed by
        /// `tailship status` with the files that cannot be opened; see `LinkPolicy`).
        private var refusedLinks: [String: (reason: String, sinceMs: Int64)] = [:]
        private var nextID = 1
        /// Inotify `IN_MOVED_FROM` paths of this turn by cookie, to follow a parked file's rename.
        private var movesFrom: [UInt32: String] = [:]
        /// Something was opened or reopened since the descriptor bound was last enforced.
        var boundDirty = false
        /// Files holding a descriptor now, per source (see `maxOpenFiles`).
        var openCounts: [Int]
        /// Sources with a `pollInterval`, and when each was last scanned.
        private var lastPolls: [Int: ContinuousClock.Instant] = [:]
        /// The wait per turn: the tailer's own, or a polled source's interval when shorter.
        private let waitMs: Int32
        /// Some source joins lines into records (whose timeouts the loop watches).
        let hasMultiline: Bool
        /// Each multiline source's matcher, made once and shared by its files (this thread only).
        var recordMatchers: [Int: RecordFraming.Matcher] = [:]
        private var lastScan = ContinuousClock.now
        /// A directory was just watched: scan once more, for entries created before its watch.
        private var scanAgain = false
        /// Read marks of recently truncated or closed files, to recognise their copies.
        var copies = CopyRecognizer()
        /// How long a new file that is a copy of a file still open waits for that file's
        /// truncation (copytruncate copies, then truncates) before it is settled on its own.
        static let copyWait: Duration = .seconds(5)
        /// The longest wait for room in the sink per turn while reading is paused.
        static let roomWait: Duration = .milliseconds(100)
        /// The longest wait, after a scan announced new files, for their positions to be saved
        /// (one save, normally milliseconds; none at all while saves fail); files still waiting
        /// after it are not read, and are tried again every turn.
        static let durableWait: Duration = .seconds(1)
        /// Where reading ended for files stopped this run (see `FileScan.readEnds`), kept for
        /// `readEndLifetime` (longer than the checkpoint store's prune grace).
        private var readEnds: [FileKey: (offset: UInt64, at: ContinuousClock.Instant)] = [:]
        static let readEndLifetime: Duration = .seconds(3 * 3600)
        private let watchingSinceMs = Int64(time(nil)) * 1000
        /// The kernel's queue overflowed (or, in `watches`, its watch table is full): said once in
        /// the log (then at most once per `fallbackLogInterval`, with a count), never per event.
        private var overflows = FallbackNotice()
        static let fallbackLogInterval: Duration = .seconds(600)
        /// Paths that cannot be opened: tried again at every rescan, but logged once per path and
        /// cause, then at most every `repeatLogInterval` (with the count), and when they open.
        var openFailures = RepeatedProblems<String>(interval: TailLoop.repeatLogInterval)
        /// Files that open but cannot be read (an I/O error): retried at every rescan, logged like
        /// `openFailures`, and listed by `tailship status` with them.
        var readFailures = RepeatedProblems<String>(interval: TailLoop.repeatLogInterval)
        private var publishedOpenFailures: [UnopenableFile] = []
        static let repeatLogInterval: Duration = .seconds(300)
        private let buffer: UnsafeMutableRawBufferPointer
        let clock = ContinuousClock()
        /// Beats every turn (at least every `pollIntervalMs` while idle).
        let heartbeat: Heartbeat

        init(
            sources: [TailSource], sink: any LineSink, resume: @escaping ResumeLookup, options: Options,
            logger: Logger, inotify: Inotify, wakeup: Wakeup, heartbeat: Heartbeat = Heartbeat()
        ) {
            self.heartbeat = heartbeat
            discovery = Discovery(sources: sources)
            openCounts = [Int](repeating: 0, count: sources.count)
            var waitMs = options.pollIntervalMs
            for (index, source) in sources.enumerated() {
                guard let interval = source.pollInterval else { continue }
                lastPolls[index] = ContinuousClock.now
                let ms = interval.wholeMilliseconds
                waitMs = min(waitMs, Int32(clamping: max(ms, 1)))
            }
            self.waitMs = waitMs
            hasMultiline = sources.contains { $0.framing != nil }
            self.sink = sink
            self.resume = resume
            self.options = options
            self.logger = logger
            self.inotify = inotify
            self.wakeup = wakeup
            buffer = .allocate(byteCount: options.chunkSize, alignment: 16)
        }

        deinit {
            buffer.deallocate()
        }

        /// Runs until `stopping` is set (and the wakeup signalled); closes every file on the way out.
        /// `sighted` is called once the initial scan has opened the files present at start (before
        /// any of them is read, so a blocking sink cannot delay it).
        func run(sighted: () -> Void) {
            rescan(initial: true, sighted: sighted)
            publish()  // the files found, before the first turn that changes anything
            while !stopping.load(ordering: .acquiring) {
                heartbeat.beat()
                // Backpressure: while the sink has no room, the wait is for room (bounded, so that
                // events are still handled: files that appear are opened, though not read).
                let room = sink.hasRoom || sink.waitForRoom(timeout: Self.roomWait)
                let reading = files.contains { $0.hasMore }
                // New positions are saved by the sink's own stage; their files wait for it, bounded,
                // and only while nothing else is to be read. While saves fail the wait ends at once
                // and the turn is an ordinary one (no spinning, and no other file slowed).
                let durableNow =
                    room && !reading && files.contains { $0.awaitingDurability }
                    && sink.waitUntilDurable(timeout: Self.roomWait)
                let busy = !room || reading || durableNow
                var touched = Set<ObjectIdentifier>()
                var needScan = false
                do {
                    if try inotify.wait(timeoutMs: busy ? 0 : waitForRecords(waitMs), wakeup: wakeup) {
                        for event in try inotify.readEvents() {
                            handle(event, touched: &touched, needScan: &needScan)
                        }
                    }
                } catch {
                    logger.error(.tailInotifyFailed, metadata: ["error": "\(error)"])
                    needScan = true
                }
                if stopping.load(ordering: .acquiring) { break }
                // Idle turns (nothing touched, nothing pending) do no per-file work at all.
                var changed = true
                let interval =
                    watches.isComplete
                    ? options.rescanInterval : min(options.rescanInterval, options.unwatchedRescanInterval)
                if needScan || scanAgain || clock.now - lastScan >= interval {
                    rescan(initial: false)
                } else if let due = polledSourcesDue() {
                    rescan(initial: false, only: due)
                } else {
                    changed = false
                    for file in files
                    where file.hasMore || file.awaitingDurability || file.drainingSince != nil
                        || file.copyWaitSince != nil
                        || (!touched.isEmpty && touched.contains(ObjectIdentifier(file)))
                    {
                        service(file)
                        changed = true
                    }
                }
                if completeDueRecords() { changed = true }
                movesFrom.removeAll(keepingCapacity: true)
                if boundDirty { enforceOpenBound() }
                if changed { publish() }
            }
            for file in files where file.key != nil {
                // A renamed-away or deleted file is not found again by the next run: its pending
                // record (complete lines already read) goes now. Any other resumes at its start.
                if file.drainingSince != nil && !file.awaitingDurability {
                    let id = file.id
                    file.splitter.completeRecord { sink.lines(file: id, $0) }
                }
                sink.fileClosed(file: file.id, reason: .stopped)
            }
            files.removeAll()
            byPath.removeAll()
            publish()
        }

        /// Interrupts the wait (from any thread).
        func wakeUp() {
            wakeup.signal()
        }

        private func handle(_ event: Inotify.Event, touched: inout Set<ObjectIdentifier>, needScan: inout Bool) {
            if event.mask.contains(.queueOverflow) {
                if let count = overflows.shouldLog(now: clock.now, interval: Self.fallbackLogInterval) {
                    logger.warning(
                        .tailInotifyOverflow, "events were lost; running a full rescan",
                        metadata: ["overflows": "\(count)"])
                }
                needScan = true
                return
            }
            let directories = watches.directories(of: event.watch)
            if event.mask.contains(.ignored) {
                watches.forget(event.watch)
                needScan = true
                return
            }
            for directory in directories {
                let path = join(directory, event.name)
                if !event.mask.isDisjoint(with: [.create, .movedTo, .movedFrom, .delete, .deleteSelf, .moveSelf]) {
                    needScan = true
                    // A parked file renamed to a name no glob matches is reached at its new name.
                    if event.mask.contains(.movedFrom) {
                        movesFrom[event.cookie] = path
                    } else if event.mask.contains(.movedTo), let from = movesFrom[event.cookie],
                        let file = byPath[from], !file.isOpen
                    {
                        file.movedTo = path
                    }
                } else if event.mask.contains(.modify),
                    // Several links may name one target; the file is held under one of them.
                    let file = byPath[path] ?? linkTargets[path]?.lazy.compactMap({ self.byPath[$0] }).first
                {
                    touched.insert(ObjectIdentifier(file))
                }
            }
        }

        /// Logs a file that cannot be read once per cause, then at most every 5 minutes (it is
        /// closed and tried again at every rescan).
        func readFailed(_ path: String, _ error: any Error) {
            guard
                let repeats = readFailures.occurred(path, cause: "\(error)", now: clock.now, wallMs: WallClock.nowMs())
            else { return }
            var metadata: Logger.Metadata = ["file.path": "\(path)", "error": "\(error)"]
            if repeats > 0 { metadata["repeats.suppressed"] = "\(repeats)" }
            logger.error(.tailReadFailed, metadata: metadata)
        }

        /// Logs each refused link once (again only after it was gone or allowed in between).
        private func reportRefusedLinks(_ refused: [String: String]) {
            var now: [String: (reason: String, sinceMs: Int64)] = [:]
            for (path, reason) in refused.sorted(by: { $0.key < $1.key }) {
                if let known = refusedLinks[path], known.reason == reason {
                    now[path] = known
                    continue
                }
                logger.warning(.tailLinkRefused, "not read", metadata: ["file.path": "\(path)", "reason": "\(reason)"])
                now[path] = (reason, WallClock.nowMs())
            }
            refusedLinks = now
        }

        /// Polled sources whose interval has passed; nil when none.
        private func polledSourcesDue() -> Set<Int>? {
            let now = clock.now
            var due = Set<Int>()
            for (source, last) in lastPolls where now - last >= discovery.sources[source].pollInterval ?? .zero {
                due.insert(source)
            }
            return due.isEmpty ? nil : due
        }

        /// Matches the file system against the open files, then reads every open file. With
        /// `only`, just those sources' files (a polled source's turn): watches, files of other
        /// sources and checkpoint pruning are left to the full rescans.
        private func rescan(initial: Bool, only: Set<Int>? = nil, sighted: () -> Void = {}) {
            let now = clock.now
            for source in lastPolls.keys where only?.contains(source) ?? true { lastPolls[source] = now }
            let inScope = { (file: TailedFile) in only?.contains(file.source) ?? true }
            let snapshot = discovery.scan(only: only)
            if only == nil {
                lastScan = now
                scanAgain = watches.update(
                    snapshot.directories, inotify: inotify, logger: logger, now: now,
                    logInterval: Self.fallbackLogInterval)
                linkTargets = snapshot.linkTargets
                reportRefusedLinks(snapshot.refusedLinks)
            }
            var seen = Set<ObjectIdentifier>()
            var newByPath: [String: TailedFile] = [:]
            var held: [HeldKey: TailedFile] = [:]
            var reopen = Set<ObjectIdentifier>()
            var wave: [TailedFile] = []
            for file in files { held[HeldKey(file.device, file.inode)] = file }
            for (path, source) in snapshot.files.sorted(by: { $0.key < $1.key }) {
                guard let status = snapshot.statuses[path] ?? (try? FileStatus.of(path: path)) else { continue }
                if let open = held[HeldKey(status.device, status.inode)] {
                    guard !seen.contains(ObjectIdentifier(open)) else { continue }  // a second link to it
                    seen.insert(ObjectIdentifier(open))
                    newByPath[path] = open
                    if !open.isOpen && open.changedWhileParked(status) { reopen.insert(ObjectIdentifier(open)) }
                    if open.path != path {
                        logger.info(
                            .tailFileMoved, metadata: ["file.path": "\(path)", "file.previous": "\(open.path)"])
                        open.path = path
                        if open.key != nil { sink.fileMoved(file: open.id, path: path) }
                    }
                    open.drainingSince = nil
                    continue
                }
                guard
                    let opened = open(
                        path: path, at: snapshot.canonical[path] ?? path, owners: snapshot.linkOwners[path] ?? [],
                        source: source, initial: initial)
                else { continue }
                if let twin = held[HeldKey(opened.device, opened.inode)] {
                    // Replaced between stat and open by a file we already hold: keep the one we have.
                    seen.insert(ObjectIdentifier(twin))
                    continue
                }
                files.append(opened)
                held[HeldKey(opened.device, opened.inode)] = opened
                boundDirty = true
                seen.insert(ObjectIdentifier(opened))
                newByPath[path] = opened
                openCounts[source] += 1
                if !initial && isOverBound(source) {
                    // Many files appeared at once: they are taken in waves, so that the bound is
                    // exceeded by at most a wave. Each is established (its position announced) and
                    // kept open; then one save covers the wave's positions, and each is read and
                    // closed again. (Not in the initial scan, which must not call the sink before
                    // `sighted`: files present at start are all opened once, then closed down to
                    // the bound after their first read.)
                    byPath[path] = opened
                    if establish(opened) { wave.append(opened) }
                    // Saves take milliseconds: a wave is read as soon as all of it is durable, so
                    // waves stay as small as the saves allow, and never exceed the bound twice over.
                    let limit = min(Self.burstWave, max(1, discovery.sources[source].maxOpenFiles))
                    if wave.count >= limit || wave.allSatisfy({ sink.isDurable(file: $0.id) }) {
                        readWave(&wave)
                    }
                }
            }
            readWave(&wave)
            // A path that cannot be opened and no longer matches (deleted, renamed away) is no
            // problem any more; only a full scan sees every source's paths.
            if only == nil, !openFailures.isEmpty { openFailures.forget { snapshot.files[$0] == nil } }
            if only == nil, !readFailures.isEmpty { readFailures.forget { snapshot.files[$0] == nil } }
            publishUnopenable()
            for file in files where !seen.contains(ObjectIdentifier(file)) && !file.isOpen && inScope(file) {
                settleParkedAndGone(file)
            }
            for file in files
            where !seen.contains(ObjectIdentifier(file)) && file.drainingSince == nil && inScope(file) {
                let deleted = ((try? file.file.status())?.linkCount ?? 0) == 0
                file.closeReason = deleted ? .deleted : .rotated
                file.drainingSince = clock.now
                logger.info(
                    .tailFileDraining, metadata: ["file.path": "\(file.path)", "reason": "\(file.closeReason)"])
            }
            if only != nil {
                for (path, file) in byPath where !inScope(file) && newByPath[path] == nil { newByPath[path] = file }
            }
            byPath = newByPath
            sighted()
            // Every new file's position is announced, then saved at once by the sink's stage: one
            // save for a whole scan's worth of files, before any of them is read.
            var announced = false
            for file in files where file.isOpen && file.key == nil && inScope(file) {
                announced = establish(file) || announced
            }
            if announced { _ = sink.waitUntilDurable(timeout: Self.durableWait) }
            // Parked files that changed are reopened one at a time inside `service`.
            for file in files where (file.isOpen || reopen.contains(ObjectIdentifier(file))) && inScope(file) {
                service(file)
            }
            enforceOpenBound()
            guard only == nil else { return }
            sink.filesScanned(
                FileScan(
                    live: Set(files.compactMap(\.key)), readEnds: readEnds.mapValues(\.offset),
                    watchingSinceMs: watchingSinceMs))
        }

        /// Records where reading of a file ended, for checkpoint pruning.
        func noteReadEnd(_ file: TailedFile) {
            guard let key = file.key else { return }
            let now = clock.now
            if readEnds.count >= 1024 { readEnds = readEnds.filter { now - $0.value.at < Self.readEndLifetime } }
            readEnds[key] = (file.splitter.lineStartOffset, now)
        }

        /// Opens the file matched as `path` by its `canonical` path, refusing any link in it: the
        /// scan checked the links on the way (`LinkPolicy`), and one swapped in since is not followed.
        /// `owners`: the users whose links lead to it (`LinkPolicy`), checked on the descriptor, so
        /// a link swapped between the scan and this open cannot lend another user's file.
        private func open(
            path: String, at canonical: String, owners: Set<UInt32> = [], source: Int, initial: Bool
        ) -> TailedFile? {
            do {
                let handle = try ReadableFile(noSymlinks: canonical)
                if !openFailures.isEmpty, openFailures.resolved(path) {
                    logger.info(.tailOpenRecovered, metadata: ["file.path": "\(path)"])
                }
                let status = try handle.status()
                guard status.isRegular else { return nil }
                guard owners.allSatisfy({ $0 == status.owner }) else {
                    logger.warning(
                        .tailLinkRefused, "not read",
                        metadata: [
                            "file.path": "\(path)",
                            "reason": "\(canonical), owned by uid \(status.owner), is not the file of the link's owner",
                        ])
                    return nil
                }
                let start: TailedFile.FirstSightStart
                if !initial || appearedDuringAReload(handle) {
                    start = .zero(.appeared)
                } else {
                    start = discovery.sources[source].startAt == .end ? .end(status.size) : .zero(.beginning)
                }
                let file = TailedFile(
                    id: nextID, source: source, path: path, file: handle, status: status, start: start,
                    maxLineBytes: discovery.sources[source].maxLineBytes, framing: discovery.sources[source].framing,
                    matcher: recordMatcher(for: source))
                nextID += 1
                file.mayBeCopy = !initial
                return file
            } catch {
                if let repeats = openFailures.occurred(
                    path, cause: "\(error)", now: clock.now, wallMs: WallClock.nowMs())
                {
                    var metadata: Logger.Metadata = ["file.path": "\(path)", "error": "\(error)"]
                    if repeats > 0 { metadata["repeats.suppressed"] = "\(repeats)" }
                    logger.warning(.tailOpenFailed, metadata: metadata)
                }
                return nil
            }
        }

        /// Reads what the file has; handles its first turn, copies, truncation, and closing a
        /// drained file.
        func service(_ file: TailedFile) {
            // A parked file is serviced when it changed: reopen it, and close it again after this
            // read if the source is at its bound (many files written at once stay within it).
            let wasParked = !file.isOpen
            if wasParked {
                // Paused by backpressure: it stays parked (no descriptor for a file that cannot be
                // read now), its change remembered, until there is room.
                guard sink.hasRoom else {
                    file.hasMore = true
                    return
                }
                guard unpark(file, at: file.path) else { return }
            }
            defer { if wasParked && isOverBound(file.source) { park(file) } }
            // Set again below while something is left to read (or reading is paused).
            file.hasMore = false
            if file.key == nil {
                guard establish(file) else { return }
                if file.awaitingDurability { _ = sink.waitUntilDurable(timeout: Self.roomWait) }
            }
            if file.awaitingDurability {
                // Not read before its position is on disk; the loop comes back (bounded waits).
                guard sink.isDurable(file: file.id) else { return }
                file.awaitingDurability = false
            }
            do {
                if file.mayBeCopy {
                    // Not judged while paused: the original's truncation cannot be seen before
                    // it is read again, so the wait for it must not run out meanwhile.
                    guard sink.hasRoom else {
                        if file.copyWaitSince != nil { file.copyWaitSince = clock.now }
                        file.hasMore = true
                        return
                    }
                    switch try recognizeCopy(file) {
                    case .empty:
                        closeIfDrained(file)
                        return
                    case .wait: return
                    case .established: break
                    case .notACopy: file.mayBeCopy = false
                    }
                }
                // Paused by backpressure: the file stays open (a rotated-away one is drained later).
                guard sink.hasRoom else {
                    file.hasMore = true
                    return
                }
                let id = file.id
                var outcome = try file.readAvailable(
                    buffer: buffer, budget: options.chunksPerTurn, proceed: { sink.hasRoom },
                    deliver: { batch in sink.lines(file: id, batch) })
                let (upgraded, rewritten) = file.upgradeIdentity()
                if let upgraded { sink.identityChanged(file: id, identity: upgraded) }
                if rewritten { outcome = .truncated }
                file.hasMore = outcome == .more
                switch outcome {
                case .more: return
                case .atEnd: closeIfDrained(file)
                case .truncated:
                    logger.warning(
                        .tailFileTruncated,
                        metadata: [
                            "file.path": "\(file.path)", "file.offset": "\(file.splitter.nextOffset)",
                        ])
                    // The pending record's lines were read whole before the content went: they go
                    // now, under the old id (a copy then resumes after them, as after plain lines).
                    file.splitter.completeRecord { sink.lines(file: id, $0) }
                    sink.fileClosed(file: file.id, reason: .truncated)
                    if let mark = file.readMark { copies.remember(mark, now: clock.now) }
                    noteReadEnd(file)
                    file.restartAfterTruncation(newID: nextID)
                    nextID += 1
                    service(file)
                }
            } catch {
                readFailed(file.path, error)
                remove(file, reason: .failed)
            }
        }

        /// Closes a renamed-away or deleted file once it is at its end and the grace has passed (the
        /// writer may still append through its old descriptor right after a rotation).
        private func closeIfDrained(_ file: TailedFile) {
            guard let since = file.drainingSince, clock.now - since >= options.drainGrace else { return }
            // Nothing can complete a renamed-away or deleted file's unterminated last line now.
            let id = file.id
            if file.key != nil, !file.awaitingDurability { file.splitter.flush { sink.lines(file: id, $0) } }
            remove(file, reason: file.closeReason)
        }

        func remove(_ file: TailedFile, reason: FileCloseReason) {
            logger.info(.tailFileClosed, metadata: ["file.path": "\(file.path)", "reason": "\(reason)"])
            if file.key != nil { sink.fileClosed(file: file.id, reason: reason) }
            if reason == .rotated || reason == .deleted, let mark = file.readMark {
                copies.remember(mark, now: clock.now)
                noteReadEnd(file)
            }
            files.removeAll { $0 === file }
            if byPath[file.path] === file { byPath[file.path] = nil }
            if file.isOpen { openCounts[file.source] -= 1 }
            file.removed = true
        }

        private func publish() {
            let statuses = files.map(\.status)
            published.withLock { $0 = statuses }
        }

        /// Hands the paths that cannot be opened to `unopenable` when they changed.
        private func publishUnopenable() {
            guard
                !openFailures.isEmpty || !readFailures.isEmpty || !refusedLinks.isEmpty
                    || !publishedOpenFailures.isEmpty
            else { return }
            let failures = (Array(openFailures.problems) + Array(readFailures.problems)).map {
                UnopenableFile(path: $0.key, error: $0.value.cause, sinceMs: $0.value.sinceMs)
            }
            let links = refusedLinks.map {
                UnopenableFile(path: $0.key, error: "link refused: \($0.value.reason)", sinceMs: $0.value.sinceMs)
            }
            let now = (failures + links).sorted { $0.path < $1.path }
            guard now != publishedOpenFailures else { return }
            publishedOpenFailures = now
            unopenable.withLock { $0 = now }
        }

        /// Device and inode, the key of a held file.
        private struct HeldKey: Hashable {
            var device: UInt64
            var inode: UInt64
            init(_ device: UInt64, _ inode: UInt64) {
                self.device = device
                self.inode = inode
            }
        }

        private func join(_ directory: String, _ name: String) -> String {
            directory == "/" ? "/" + name : directory + "/" + name
        }
    }
#endif
