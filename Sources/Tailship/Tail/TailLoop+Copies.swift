#if canImport(Glibc)
    import Glibc
    import Logging

    /// Recognising copies of content already read (copytruncate), on the tail thread.
    extension TailLoop {
        /// `empty`: nothing to judge yet (a copy starts empty); `wait`: may be a copy of a file whose
        /// truncation is not seen yet; `established`: a copy, repositioned past what was read.
        enum CopyCheck { case empty, wait, established, notACopy }

        /// Moves a copy on past the content already read in `original` (the sink's id of that
        /// file), and the sink's position with it, once the original's has got there.
        private func reposition(_ file: TailedFile, at offset: UInt64, original: Int) throws(SyscallError) {
            try file.repositionAsCopy(at: offset)
            file.copyWaitSince = nil
            sink.skipped(file: file.id, to: offset, coveredBy: original)
        }

        /// Whether `handle`'s first bytes hash to the recorded fingerprint of another file held
        /// now. Judged from the recorded fingerprints alone: the other file may be truncated.
        func beginsLikeAnOpenFile(_ head: FileIdentity.Head, except file: TailedFile) -> Bool {
            files.contains { other in
                guard other !== file, let identity = other.identity, identity.fingerprintLength > 0 else {
                    return false
                }
                return head.hash(identity.fingerprintLength) == identity.fingerprint
            }
        }

        /// Decides whether a file that appeared after start is a copy of content already read
        /// (see `CopyRecognizer` and docs/rotation.md): if so, it is established at the offset
        /// where that content's reading stopped; while it copies a file still open and not yet
        /// truncated, it waits (up to `copyWait`) for that truncation.
        func recognizeCopy(_ file: TailedFile) throws(SyscallError) -> CopyCheck {
            let handle = try file.file
            let size = try handle.status().size
            guard size > 0 else { return .empty }  // decided at its first bytes (a copy starts empty)
            guard !file.resumed else { return .notACopy }
            let now = clock.now
            let read = { (offset: UInt64, length: Int) throws(SyscallError) -> [UInt8]? in
                try handle.bytes(at: offset, length: length)
            }
            if let mark = try copies.match(size: size, now: now, read: read) {
                try reposition(file, at: mark.lineStart, original: mark.file)
                logger.info(
                    .tailCopyRecognised,
                    metadata: ["file.path": "\(file.path)", "file.offset": "\(mark.lineStart)"])
                return .established
            }
            // Read once: compared below with the recorded fingerprint of every file held.
            let head = try FileIdentity.Head(of: handle, size: size)
            var original: TailedFile?
            for other in files where other !== file && original == nil {
                // A parked file is reopened to compare only when its fingerprint may match the copy's
                // head, and parked again unless it is the original (a short new file may match many).
                let parked = !other.isOpen
                if parked {
                    guard other.headMayMatch(head), unpark(other, at: other.path) else { continue }
                }
                if try other.isCopied(by: handle, size: size) {
                    original = other
                } else if parked {
                    park(other)
                }
            }
            guard let original else {
                // logrotate truncates right after copying: the original may already be empty
                // while its truncation has not been seen yet (so no mark to match). A file that
                // begins with an open file's recorded fingerprint waits (up to `copyWait`) for
                // that truncation to be seen, rather than being read from 0 as new content.
                if beginsLikeAnOpenFile(head, except: file) {
                    let since = file.copyWaitSince ?? now
                    file.copyWaitSince = since
                    if now - since < Self.copyWait { return .wait }
                }
                file.copyWaitSince = nil
                return .notACopy
            }
            let since = file.copyWaitSince ?? now
            file.copyWaitSince = since
            guard now - since >= Self.copyWait else { return .wait }
            // Never truncated: all of the copy is also in the original, read there.
            try reposition(file, at: size, original: original.id)
            logger.info(
                .tailCopyRecognised,
                metadata: [
                    "file.path": "\(file.path)", "file.offset": "\(size)", "file.original": "\(original.path)",
                ])
            return .established
        }
    }
#endif
