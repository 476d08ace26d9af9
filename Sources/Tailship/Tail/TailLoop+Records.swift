#if canImport(Glibc)
    /// Multiline records whose writer stopped mid-record: complete once their timeout passes
    /// (see `RecordAssembler`). A stop completes only those of files being drained (the next run
    /// will not find them); any other is read again, whole, from its first line by the next run.
    extension TailLoop {
        /// The earliest moment a pending record is due, over every open file; nil without one.
        private var nextRecordDeadline: ContinuousClock.Instant? {
            guard hasMultiline else { return nil }
            return files.lazy.compactMap { $0.splitter.recordDeadline }.min()
        }

        /// The matcher of `source`'s records, nil when it has none: one compiled pattern for all
        /// its files (they are all read on this thread).
        func recordMatcher(for source: Int) -> RecordFraming.Matcher? {
            guard let framing = discovery.sources[source].framing else { return nil }
            if let made = recordMatchers[source] { return made }
            let made = framing.makeMatcher()
            recordMatchers[source] = made
            return made
        }

        /// `waitMs`, shortened so the wait ends when the next pending record is due.
        func waitForRecords(_ waitMs: Int32) -> Int32 {
            guard let deadline = nextRecordDeadline else { return waitMs }
            let ms = clock.now.duration(to: deadline).wholeMilliseconds + 1
            return Int32(clamping: max(0, min(Int64(waitMs), ms)))
        }

        /// Hands on every record whose timeout passed, when the sink has room; returns whether any
        /// went. A file whose position is not durable yet has read nothing, so holds none.
        ///
        /// The timeout counts from when a line was read, not written: an open file that holds
        /// unread bytes (its source is polled, or its change not yet handled) is read first, so a
        /// trace already on disk is not cut. A parked file was read to its end when parked, and
        /// any change since is read through the loop's own turn.
        func completeDueRecords() -> Bool {
            guard hasMultiline, sink.hasRoom else { return false }
            let now = clock.now
            var any = false
            for file in files where file.key != nil && !file.awaitingDurability {
                guard let deadline = file.splitter.recordDeadline, deadline <= now else { continue }
                if file.isOpen, let size = try? file.file.status().size, size > file.splitter.nextOffset {
                    service(file)
                    any = true
                    // Still due only if what was read added nothing to the record.
                    guard !file.removed, !file.hasMore, let again = file.splitter.recordDeadline, again <= now
                    else { continue }
                }
                let id = file.id
                if file.splitter.completeRecordIfDue(now: now, { sink.lines(file: id, $0) }) { any = true }
            }
            return any
        }
    }
#endif
