/// Where reading of a file stopped, remembered so that a copy of it (copytruncate's `app.log.1`)
/// can be recognised as content already read: the head fingerprint, the read offset, and a hash
/// of the bytes just before that offset (the "tail check").
struct ReadMark: Sendable, Hashable {
    /// FNV-1a of the first `fingerprintLength` bytes (the file's identity fingerprint).
    var fingerprint: UInt64
    var fingerprintLength: Int
    /// Start of the first line not handed on: where a copy resumes (a pending partial line is
    /// read again, whole, from the copy).
    var lineStart: UInt64
    /// Offset of the next byte that was not read; the tail check ends here.
    var readEnd: UInt64
    /// FNV-1a of the bytes [readEnd - tailLength, readEnd).
    var tailHash: UInt64
    var tailLength: Int
    /// The sink's id of the file read (the original): a copy's position may only move past
    /// `lineStart` once the original's has (what was read there may not be acknowledged yet).
    var file: Int = 0
}

/// The last bytes read from a file, up to `TailWindow.capacity`: kept up to date as each chunk
/// is consumed (the bytes are in the read buffer then), so the tail check is at hand when the
/// file is found truncated and its bytes are gone.
struct TailWindow {
    /// How many bytes the tail check covers (fewer near the start of a file).
    static let capacity = 64

    private(set) var bytes: [UInt8] = []

    /// Records that `chunk` was read just after the bytes already in the window.
    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        if chunk.count >= Self.capacity {
            bytes.removeAll(keepingCapacity: true)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[(chunk.count - Self.capacity)...]))
        } else {
            bytes.append(contentsOf: chunk)
            if bytes.count > Self.capacity { bytes.removeFirst(bytes.count - Self.capacity) }
        }
    }

    /// Replaces the window with `bytes` (primed from the file after a seek).
    mutating func reset(_ bytes: [UInt8] = []) {
        self.bytes = Array(bytes.suffix(Self.capacity))
    }

    var hash: UInt64 { bytes.withUnsafeBytes { FNV64.hash($0) } }
}

/// Remembers where recently truncated or closed files stopped being read, and recognises a new
/// file as a copy of one of them: same head fingerprint, at least as long as the read offset,
/// and the same bytes just before that offset. Bounded (`capacity` entries) and forgetful
/// (`lifetime`), since a copy appears right after the truncation or close it belongs to.
///
/// Two files that merely begin alike fail the tail check (their bytes differ near the offset, or
/// the newcomer is shorter), so they are read in full as distinct files.
struct CopyRecognizer {
    var capacity = 64
    var lifetime: Duration = .seconds(600)
    private var recent: [(mark: ReadMark, at: ContinuousClock.Instant)] = []

    mutating func remember(_ mark: ReadMark, now: ContinuousClock.Instant) {
        recent.removeAll { $0.mark == mark || now - $0.at > lifetime }
        recent.append((mark, now))
        if recent.count > capacity { recent.removeFirst(recent.count - capacity) }
    }

    var count: Int { recent.count }

    /// The remembered mark a file of `size` bytes is a copy of, if any (the most recent first).
    /// `read(offset, length)` gives exactly `length` bytes of the candidate, or nil.
    func match<E: Error>(
        size: UInt64, now: ContinuousClock.Instant, read: (_ offset: UInt64, _ length: Int) throws(E) -> [UInt8]?
    ) throws(E) -> ReadMark? {
        for (mark, at) in recent.reversed() where now - at <= lifetime {
            guard size >= mark.readEnd, UInt64(mark.fingerprintLength) <= size else { continue }
            guard let head = try read(0, mark.fingerprintLength),
                head.withUnsafeBytes({ FNV64.hash($0) }) == mark.fingerprint
            else { continue }
            guard let tail = try read(mark.readEnd - UInt64(mark.tailLength), mark.tailLength),
                tail.withUnsafeBytes({ FNV64.hash($0) }) == mark.tailHash
            else { continue }
            return mark
        }
        return nil
    }
}
