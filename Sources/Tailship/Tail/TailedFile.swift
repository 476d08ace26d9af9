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
                splitter.reset(to: offset)
                return true
            }
            guard let fresh = try FileIdentity.compute(for: file) else { return false }
            identity = fresh
            switch firstSightStart {
            case .end(let size): splitter.reset(to: size)
            case .beginning: splitter.reset(to: 0)
            }
            return true
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
                splitter.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), deliver)
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
            hasMore = false
        }
    }
#endif
