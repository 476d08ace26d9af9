#if canImport(Glibc)
    import Glibc

    /// One open file being tailed. Confined to the tail thread.
    final class TailedFile {
        /// Where to start once the file has an identity and no checkpoint matches it.
        enum FirstSightStart {
            /// `start_at: end` for a file present at startup: its size when first sighted.
            case end(UInt64)
            /// From byte 0: a file that appeared after start, or `start_at: beginning`.
            case beginning
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
        let file: ReadableFile
        let device: UInt64
        let inode: UInt64
        /// Nil until the file has at least one byte.
        var identity: FileIdentity?
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
        /// The last bytes read (for the tail check of a `ReadMark`).
        var tail = TailWindow()
        /// Appeared after start: it may be a copy of content already read (copytruncate), checked
        /// before it is given a fresh identity.
        var mayBeCopy = false
        /// Since when it looks like a copy of a file still open and not yet truncated.
        var copyWaitSince: ContinuousClock.Instant?

        init(
            id: Int, source: Int, path: String, file: ReadableFile, status: FileStatus, start: FirstSightStart,
            maxLineBytes: Int
        ) {
            self.id = id
            self.source = source
            self.path = path
            self.file = file
            self.device = status.device
            self.inode = status.inode
            self.firstSightStart = start
            self.splitter = LineSplitter(startOffset: 0, maxLineBytes: maxLineBytes)
        }

        var status: TailedFileStatus {
            TailedFileStatus(
                file: id, source: source, path: path, identity: identity, offset: splitter.lineStartOffset,
                draining: drainingSince != nil)
        }

        /// Chooses the identity and start offset once the file is non-empty: a matching
        /// checkpoint's, or a fresh identity at the first-sight start. False while still empty.
        func establish(resume: ResumeLookup, log: (String) -> Void) throws(SyscallError) -> Bool {
            let points = ignoreCheckpoints ? [] : resume(device, inode)
            for point in points where try point.identity.matches(file) {
                identity = point.identity
                var offset = point.offset
                let size = try file.status().size
                if offset > size {
                    log("checkpoint offset \(offset) is past the end (\(size)): file was truncated, reading from 0")
                    offset = 0
                }
                try seek(to: offset)
                return true
            }
            guard let fresh = try FileIdentity.compute(for: file) else { return false }
            identity = fresh
            switch firstSightStart {
            case .end(let size): try seek(to: size)
            case .beginning: try seek(to: 0)
            }
            return true
        }

        /// Gives the file a fresh identity of its own and starts reading it at `offset`: it was
        /// recognised as a copy of content already read up to there. False while still empty.
        func establishAsCopy(at offset: UInt64) throws(SyscallError) -> Bool {
            guard let fresh = try FileIdentity.compute(for: file) else { return false }
            identity = fresh
            try seek(to: offset)
            return true
        }

        /// Where reading stands, for recognising a later copy of this file; nil without identity.
        var readMark: ReadMark? {
            guard let identity else { return nil }
            return ReadMark(
                fingerprint: identity.fingerprint, fingerprintLength: identity.fingerprintLength,
                lineStart: splitter.lineStartOffset, readEnd: splitter.nextOffset, tailHash: tail.hash,
                tailLength: tail.bytes.count)
        }

        /// Whether `candidate` (another file, `size` bytes) holds this file's bytes so far: the same
        /// first bytes, and the same bytes just before min(`size`, read offset). A copy still being
        /// written passes too. Both are read now, so this file must not be truncated yet.
        func isCopied(by candidate: ReadableFile, size: UInt64) throws(SyscallError) -> Bool {
            guard let identity, size > 0 else { return false }
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

        /// Continues reading at `offset`, priming the tail window with the bytes just before it.
        private func seek(to offset: UInt64) throws(SyscallError) {
            splitter.reset(to: offset)
            let length = Int(min(offset, UInt64(TailWindow.capacity)))
            tail.reset(try file.bytes(at: offset - UInt64(length), length: length) ?? [])
        }

        /// Reads appended bytes in chunks of `buffer.count`, at most `budget` chunks, handing each
        /// chunk's complete lines to `deliver`. Checks first that the file was not truncated or
        /// rewritten in place (fingerprint changed).
        func readAvailable(
            buffer: UnsafeMutableRawBufferPointer, budget: Int, deliver: (LineBatch) -> Void
        ) throws(SyscallError) -> ReadOutcome {
            guard let identity else { return .atEnd }
            if try !identity.matches(file) { return .truncated }
            for _ in 0..<budget {
                let count = try file.read(into: buffer, at: splitter.nextOffset)
                if count == 0 {
                    return try file.status().size < splitter.nextOffset ? .truncated : .atEnd
                }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                splitter.feed(chunk, deliver)
                tail.append(chunk)
            }
            return .more
        }

        /// Makes this descriptor a new file read from 0 (after truncation): the caller announces it
        /// under `newID` once it has bytes again.
        func restartAfterTruncation(newID: Int) {
            id = newID
            identity = nil
            firstSightStart = .beginning
            ignoreCheckpoints = true
            splitter.reset(to: 0)
            tail.reset()
            hasMore = false
            mayBeCopy = false
            copyWaitSince = nil
        }
    }
#endif
