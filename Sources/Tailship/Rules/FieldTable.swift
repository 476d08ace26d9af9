/// The field names a source's rules refer to, each given a slot number at compile time so
/// the per-line work indexes arrays instead of hashing names.
final class FieldTable {
    private(set) var names: [String] = []
    private var nameBytes: [[UInt8]] = []

    var count: Int { names.count }

    /// The slot of `name`, adding it when new.
    @discardableResult
    func add(_ name: String) -> Int {
        if let i = names.firstIndex(of: name) { return i }
        names.append(name)
        nameBytes.append(Array(name.utf8))
        return names.count - 1
    }

    func slot(named name: String) -> Int? { names.firstIndex(of: name) }

    /// The slot whose name equals `bytes` (a key read from a JSON or logfmt line), if any.
    /// A linear scan: rules name a handful of fields, and lengths differ most of the time.
    func slot(matching bytes: UnsafeRawBufferPointer) -> Int? {
        let n = bytes.count
        outer: for (i, name) in nameBytes.enumerated() where name.count == n {
            for k in 0..<n where name[k] != bytes[k] { continue outer }
            return i
        }
        return nil
    }
}

/// Where one field's value sits for the current line: a byte range of the line itself or of
/// the engine's scratch buffer (JSON strings with escapes are decoded there).
struct FieldRef {
    var start: Int
    var end: Int
    var inScratch: Bool
    var present: Bool

    static let missing = FieldRef(start: 0, end: 0, inScratch: false, present: false)
}

/// Per-line field values for the source-level parse (JSON, logfmt, presets), owned by one
/// engine and reused for every line: no allocation per line.
final class LineFields {
    private(set) var refs: UnsafeMutablePointer<FieldRef>
    let count: Int
    /// Decoded bytes (JSON escapes, quoted logfmt values, `true` for bare logfmt keys); sized to
    /// twice the line plus 8, which bounds all of them.
    private(set) var scratch: UnsafeMutableRawPointer
    private(set) var scratchCapacity: Int
    var scratchUsed = 0

    init(count: Int) {
        self.count = count
        refs = .allocate(capacity: max(count, 1))
        refs.initialize(repeating: .missing, count: max(count, 1))
        scratchCapacity = 4096
        scratch = .allocate(byteCount: scratchCapacity, alignment: 1)
    }

    deinit {
        refs.deallocate()
        scratch.deallocate()
    }

    /// Clears every field and makes room to decode a line of `lineLength` bytes.
    func reset(lineLength: Int) {
        for i in 0..<count { refs[i] = .missing }
        scratchUsed = 0
        let needed = 2 * lineLength + 8
        if needed > scratchCapacity {
            scratch.deallocate()
            scratchCapacity = needed
            scratch = .allocate(byteCount: scratchCapacity, alignment: 1)
        }
    }

    func set(_ slot: Int, _ ref: FieldRef) { refs[slot] = ref }

    /// Appends one decoded byte to the scratch buffer (callers stay within the line's length).
    @inline(__always)
    func appendScratch(_ byte: UInt8) {
        scratch.storeBytes(of: byte, toByteOffset: scratchUsed, as: UInt8.self)
        scratchUsed += 1
    }

    /// The bytes of the field in `slot`, or nil when the line has no such field.
    @inline(__always)
    func value(_ slot: Int, line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        let ref = refs[slot]
        guard ref.present else { return nil }
        if ref.inScratch {
            return UnsafeRawBufferPointer(start: scratch + ref.start, count: ref.end - ref.start)
        }
        return UnsafeRawBufferPointer(rebasing: line[ref.start..<ref.end])
    }
}
