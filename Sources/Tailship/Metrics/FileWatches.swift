/// Per-file progress as the metrics thread samples it, about once a second: when the tailer
/// last moved a file's read position, and since when its checkpoint has stood still while the
/// file holds more bytes (the stall clock).
struct FileWatches {
    struct Watch {
        var readOffset: UInt64
        /// Ms since the epoch when the read position last moved (or the file was first sampled).
        var lastReadMs: Int64
        /// The checkpoint offset the stall clock runs for, and since when.
        var stallBase: UInt64?
        var behindSinceMs: Int64?
    }

    /// One file as sampled: what `/metrics` shows of it.
    struct Sample {
        var path: String
        var source: String
        var bytesBehind: UInt64?
        var secondsSinceRead: Double
        var behindForMs: Int64?
    }

    private var watches: [Int: Watch] = [:]

    /// Updates each file's clocks with what the pipeline says now. `size` is the file's current
    /// size (nil: unknown), `checkpoint` its checkpoint offset (nil: not recorded yet).
    mutating func sample(
        file: Int, readOffset: UInt64, size: UInt64?, checkpoint: UInt64?, nowMs: Int64
    ) -> (behind: UInt64?, secondsSinceRead: Double, behindForMs: Int64?) {
        var watch = watches[file] ?? Watch(readOffset: readOffset, lastReadMs: nowMs)
        if readOffset != watch.readOffset {
            watch.readOffset = readOffset
            watch.lastReadMs = nowMs
        }
        let base = checkpoint ?? readOffset
        let behind = size.map { $0 > base ? $0 - base : 0 }
        if let behind, behind > 0 {
            // Newly behind, or the checkpoint moved: the clock starts again.
            if watch.stallBase != base {
                watch.stallBase = base
                watch.behindSinceMs = nowMs
            }
        } else {
            watch.stallBase = nil
            watch.behindSinceMs = nil
        }
        watches[file] = watch
        return (behind, Double(max(0, nowMs - watch.lastReadMs)) / 1000, watch.behindSinceMs.map { nowMs - $0 })
    }

    /// Forgets the files not in `open` (closed since the last sample).
    mutating func keep(only open: Set<Int>) {
        watches = watches.filter { open.contains($0.key) }
    }

    mutating func reset() { watches = [:] }
}
