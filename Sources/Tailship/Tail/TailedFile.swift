#if canImport(Glibc)
    import Glibc

    /// One open file being tailed. Confined to the tail thread.
    final class TailedFile {
        /// Where to start when no checkpoint is this file: decided when it was opened.
        enum FirstSightStart {
            /// `start_at: end` for a file present at startup: its size when first sighted.
            case end(UInt64)
            /// From byte 0, for the reason given (`beginning`, `appeared` or `truncated`).
            case zero(StartReason)
        }

        /// What one `readAvailable` call found.
        enum ReadOutcome {
            /// Read everything there is for now.
            case atEnd
            /// Stopped after the chunk budget with more to read.
            case more
            /// The file shrank below the read offset or its first bytes changed.
            case truncated
        }

        /// Sink-facing id; replaced when truncation makes it a new file.
        var id: Int
        let source: Int
        var path: String
        /// The open descriptor; nil while the file is parked (closed to bound open descriptors,
        /// see `park()`), when `device` and `inode` still say which file it is.
        private(set) var handle: ReadableFile?
        let device: UInt64
        let inode: UInt64
        /// The file's name in the checkpoint store; nil until `establish` (its first service).
        private(set) var key: FileKey?
        /// Established from a checkpoint recorded earlier (not a file first seen now).
        private(set) var resumed = false
        /// Nil until `establish`; its fingerprint grows with the file (`upgradeIdentity`).
        private(set) var identity: FileIdentity? {
            didSet {
                let length = min(identity?.fingerprintLength ?? 0, Self.headSampleLength)
                headSample = length == 0 ? [] : ((try? handle?.bytes(at: 0, length: length)) ?? nil) ?? []
            }
        }
        /// The first bytes under the fingerprint (at most `headSampleLength`), kept so that a new
        /// file too short to hash can be compared with a parked file without reopening it.
        private(set) var headSample: [UInt8] = []
        static let headSampleLength = 64
        var firstSightStart: FirstSightStart
        var splitter: LineSplitter
        /// When the file was found renamed away or deleted; it is closed at its end after a grace.
        var drainingSince: ContinuousClock.Instant?
        var closeReason: FileCloseReason = .rotated
        /// The previous read stopped on its chunk budget.
        var hasMore = false
        /// After a truncation the content is new by definition: an old checkpoint for the same
        /// inode must not be resumed even if the new first bytes happen to hash the same.
        var ignoreCheckpoints = false
        /// Established, but its starting position not yet durable: not read, nor closed, until it is.
        var awaitingDurability = false
        /// The last bytes read (for the tail check of a `ReadMark`).
        var tail = TailWindow()
        /// Appeared after start: it may be a copy of content already read (copytruncate), checked
        /// before it is given a fresh identity.
        var mayBeCopy = false
        /// Since when it looks like a copy of a file still open and not yet truncated.
        var copyWaitSince: ContinuousClock.Instant?
        /// The descriptor's `fstat` at the last fingerprint check that passed, when the file was
        /// then read to its end and that check was made well after the file's last change (see
        /// `trustworthy`). While `fstat` still says the same, nothing was written, truncated or
        /// rewritten: the next look skips the fingerprint read (idle files cost one `fstat`).
        var verified: FileStatus?
        /// The last time bytes were read (or the file was opened): parking closes the least
        /// recently active files first.
        var lastActive: ContinuousClock.Instant
        /// The `fstat` taken when the file was parked; a path `stat` that differs means it changed.
        private(set) var parkedStatus: FileStatus?
        /// Where a parked file was renamed to (paired inotify move events), to reach it there if
        /// its new name is not matched.
        var movedTo: String?
        /// No longer tailed (closed for good): never parked or counted again.
        var removed = false

        init(
            id: Int, source: Int, path: String, file: ReadableFile, status: FileStatus, start: FirstSightStart,
            maxLineBytes: Int, framing: RecordFraming? = nil, matcher: RecordFraming.Matcher? = nil
        ) {
            self.id = id
            self.source = source
            self.path = path
            self.handle = file
            self.lastActive = ContinuousClock.now
            self.device = status.device
            self.inode = status.inode
            self.firstSightStart = start
            self.splitter = LineSplitter(
                startOffset: 0, maxLineBytes: maxLineBytes, framing: framing, matcher: matcher)
        }

        /// The open descriptor; fails with EBADF while parked (callers unpark first).
        var file: ReadableFile {
            get throws(SyscallError) {
                guard let handle else { throw SyscallError("read", errno: Errno(rawValue: EBADF), path: path) }
                return handle
            }
        }

        /// Whether the file has a descriptor now (it is not parked).
        var isOpen: Bool { handle != nil }

        /// Whether the file may be closed to bound open descriptors: it is not renamed away or
        /// deleted (those are drained through the descriptor they hold, never closed while bytes
        /// remain), not being read or waited on as a copy, and (checked by `park()`) read to its
        /// end (a copy candidate not judged yet is therefore parked only while empty).
        var isParkable: Bool {
            handle != nil && !removed && drainingSince == nil && !hasMore && copyWaitSince == nil
                && !awaitingDurability
        }

        /// Closes the descriptor if the file is still read to its end now. Its identity, offset
        /// and pending partial line stay; `reopen(at:)` continues from there.
        func park() throws(SyscallError) -> Bool {
            guard isParkable else { return false }
            let status = try file.status()
            guard status.size == splitter.nextOffset else { return false }
            parkedStatus = status
            handle = nil
            movedTo = nil
            return true
        }

        /// Whether a path `stat` of a parked file says it was written, truncated or replaced since.
        func changedWhileParked(_ status: FileStatus) -> Bool {
            guard let parkedStatus else { return true }
            return !status.isUnchanged(since: parkedStatus)
        }

        /// Opens `path` again for a parked file; false (still parked) unless the path names the
        /// same device and inode. The fingerprint is checked by the next `readAvailable` (a
        /// mismatch there is a file rewritten in place: `.truncated`, read as a new file). With
        /// `sameContent`, for a file looked for under another name, it must also still begin with
        /// its fingerprinted bytes and be no shorter than what was read: a reused inode there is
        /// some other file, never to be adopted.
        func reopen(at path: String, sameContent: Bool = false) throws(SyscallError) -> Bool {
            guard handle == nil else { return true }
            let opened = try ReadableFile(path: path)
            let status = try opened.status()
            guard status.device == device, status.inode == inode else { return false }
            if sameContent {
                guard let identity, status.size >= splitter.nextOffset,
                    try identity.matches(opened, status: status)
                else { return false }
            }
            handle = opened
            parkedStatus = nil
            movedTo = nil
            lastActive = .now
            return true
        }

        var status: TailedFileStatus {
            TailedFileStatus(
                file: id, source: source, path: path, identity: identity, offset: splitter.lineStartOffset,
                draining: drainingSince != nil)
        }

        /// Decides, once, which file this is and where reading starts: the checkpoint recorded for
        /// it (`ResumeDecision.resume`), or a fresh key and identity at the first-sight start (from
        /// 0 when it was found rewritten since its checkpoint). Returns what the sink must be told.
        func establish(path: String, resume: ResumeLookup, log: (LogName, String) -> Void) throws(SyscallError)
            -> FileOpening
        {
            let file = try self.file
            let status = try file.status()
            let decision =
                ignoreCheckpoints
                ? .unknown
                : resume(path, status) { identity in (try? identity.matches(file, status: status)) ?? false }
            var start: StartReason
            var offset: UInt64 = 0
            switch decision {
            case .resume(let checkpoint) where checkpoint.offset > status.size:
                // Truncated while the agent was stopped (its first bytes survived): new content,
                // a new position from 0, saved before it is read like any other.
                log(
                    .tailCheckpointPastEnd,
                    "checkpoint offset \(checkpoint.offset) is past the end (\(status.size)): truncated while stopped; reading from 0"
                )
                start = .rewritten
            case .resume(let checkpoint):
                identity = checkpoint.identity
                identity?.device = status.device
                key = checkpoint.key
                resumed = true
                offset = checkpoint.offset
                try seek(to: offset)
                return opening(offset: offset, start: nil)
            case .rewritten(let old):
                log(
                    .tailFileRewritten,
                    "first bytes changed since checkpoint \(old.key) at offset \(old.offset); reading from 0")
                start = .rewritten
            case .unknown:
                switch firstSightStart {
                case .end(let size):
                    start = .end
                    offset = min(size, status.size)
                case .zero(let reason): start = reason
                }
            }
            key = .random()
            // Read once: the fingerprint and the head reading starts after are the same bytes.
            let head = try FileIdentity.Head(of: file, size: status.size).bytes
            identity = head.withUnsafeBytes { FileIdentity(device: status.device, inode: status.inode, head: $0) }
            try seek(to: offset, head: head)
            return opening(offset: offset, start: start)
        }

        private func opening(offset: UInt64, start: StartReason?) -> FileOpening {
            FileOpening(
                file: id, source: source, path: path, key: key!, identity: identity!, offset: offset, start: start)
        }

        /// Moves reading on to `offset` without reading what lies before it: the file was
        /// recognised as a copy of content already read up to there.
        func repositionAsCopy(at offset: UInt64) throws(SyscallError) {
            try seek(to: offset)
            mayBeCopy = false
        }

        /// Extends the fingerprint over the bytes read since (while it covers less than 1 KiB).
        /// Returns the new identity when it changed, and `rewritten` when the bytes read no longer
        /// begin with the fingerprinted ones (the file was rewritten between two reads).
        func upgradeIdentity() -> (changed: FileIdentity?, rewritten: Bool) {
            guard let identity, !identity.isComplete, splitter.head.count > identity.fingerprintLength else {
                return (nil, false)
            }
            guard let upgraded = splitter.head.withUnsafeBytes({ identity.upgraded(head: $0) }) else {
                return (nil, true)
            }
            self.identity = upgraded
            return (upgraded, false)
        }

        /// Where reading stands, for recognising a later copy of this file; nil without identity.
        var readMark: ReadMark? {
            guard let identity, splitter.nextOffset > 0 else { return nil }
            return ReadMark(
                fingerprint: identity.fingerprint, fingerprintLength: identity.fingerprintLength,
                lineStart: splitter.lineStartOffset, readEnd: splitter.nextOffset, tailHash: tail.hash,
                tailLength: tail.bytes.count, file: id)
        }

        /// Whether `candidate` (another file, `size` bytes) holds this file's bytes so far: the same
        /// first bytes, and the same bytes just before min(`size`, read offset). A copy still being
        /// written passes too. Both are read now, so this file must not be truncated yet.
        func isCopied(by candidate: ReadableFile, size: UInt64) throws(SyscallError) -> Bool {
            // An empty original (no fingerprinted bytes) holds nothing a copy could repeat.
            guard let identity, identity.fingerprintLength > 0, size > 0 else { return false }
            let head = Int(min(UInt64(identity.fingerprintLength), size))
            guard let theirs = try candidate.bytes(at: 0, length: head), try file.bytes(at: 0, length: head) == theirs
            else { return false }
            let end = min(size, splitter.nextOffset)
            guard end > UInt64(head) else { return true }
            let length = Int(min(end, UInt64(TailWindow.capacity)))
            let start = end - UInt64(length)
            guard let tail = try candidate.bytes(at: start, length: length) else { return false }
            return try file.bytes(at: start, length: length) == tail
        }

        /// Whether `candidate` (`size` bytes) may begin with this file's fingerprinted bytes, judged
        /// without this file's descriptor (it may be parked): for a candidate too short to hash, by the
        /// head sample (true when even that cannot tell).
        func headMayMatch(_ candidate: FileIdentity.Head) -> Bool {
            guard let identity, identity.fingerprintLength > 0 else { return false }
            guard let hash = candidate.hash(identity.fingerprintLength) else {
                // Too short to hash: its first bytes must at least agree with the head sample.
                let length = min(candidate.bytes.count, headSample.count)
                guard length > 0 else { return true }
                return candidate.bytes[..<length] == headSample[..<length]
            }
            return hash == identity.fingerprint
        }

        /// Continues reading at `offset`, priming the head (the file's bytes before it, up to
        /// 1 KiB) and the tail window (the bytes just before it).
        /// `head`, when given, holds the file's first bytes already read (at least up to `offset`
        /// or 1 KiB).
        private func seek(to offset: UInt64, head: [UInt8]? = nil) throws(SyscallError) {
            let headLength = Int(min(offset, UInt64(LineSplitter.headCapacity)))
            let prefix: [UInt8]
            if let head, head.count >= headLength {
                prefix = Array(head.prefix(headLength))
            } else {
                prefix = try file.bytes(at: 0, length: headLength) ?? []
            }
            splitter.reset(to: offset, head: prefix)
            let length = Int(min(offset, UInt64(TailWindow.capacity)))
            tail.reset(try file.bytes(at: offset - UInt64(length), length: length) ?? [])
        }

        /// Reads appended bytes in chunks of `buffer.count`, at most `budget` chunks, handing each
        /// chunk's complete lines to `deliver`, and stopping early (`.more`) once `proceed` says
        /// so. Checks first that the file was not truncated or rewritten in place (fingerprint
        /// changed).
        func readAvailable(
            buffer: UnsafeMutableRawBufferPointer, budget: Int, proceed: () -> Bool = { true },
            deliver: (LineBatch) -> Void
        ) throws(SyscallError) -> ReadOutcome {
            guard let identity else { return .atEnd }
            let file = try self.file
            let status = try file.status()
            if let verified, status.isUnchanged(since: verified) {
                if splitter.nextOffset >= status.size { return .atEnd }
            } else {
                verified = nil
                if try !identity.matches(file, status: status) { return .truncated }
            }
            var source = FileBytes(file)
            let end = try splitter.read(
                from: &source, buffer: buffer, budget: budget, proceed: proceed,
                onChunk: {
                    lastActive = .now
                    tail.append($0)
                }, deliver: deliver)
            guard end == .atEnd else { return .more }
            if try file.status().size < splitter.nextOffset { return .truncated }
            // Anything changed after `status` was taken moves the times or the size.
            if TailedFile.trustworthy(status) { verified = status }
            return .atEnd
        }

        /// Whether a check made now against `status` can be trusted to cover every later change:
        /// file times come from a coarse kernel clock, so a write in the same tick as the check
        /// could leave them unchanged. A file last changed over a second ago cannot ("racy git").
        static func trustworthy(_ status: FileStatus) -> Bool {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let nowNs = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
            return max(status.modifiedNs, status.changedNs) <= nowNs - 1_000_000_000
        }

        /// Makes this descriptor a new file read from 0 (after truncation): the caller announces it
        /// under `newID` once it has bytes again.
        func restartAfterTruncation(newID: Int) {
            id = newID
            identity = nil
            key = nil
            resumed = false
            firstSightStart = .zero(.truncated)
            ignoreCheckpoints = true
            splitter.reset(to: 0)
            tail.reset()
            hasMore = false
            mayBeCopy = false
            copyWaitSince = nil
            verified = nil
        }
    }
#endif
