/// Where the JSON writer puts bytes: an array, or a `ByteBuffer` that events are encoded into
/// one after another.
public protocol ByteOutput {
    var byteCount: Int { get }
    mutating func write(_ byte: UInt8)
    mutating func write(_ bytes: UnsafeRawBufferPointer)
    /// Drops what was written after the first `count` bytes.
    mutating func truncate(to count: Int)
    /// Reads back bytes already written.
    func withBytes<R>(in range: Range<Int>, _ body: (UnsafeRawBufferPointer) -> R) -> R
}

extension Array: ByteOutput where Element == UInt8 {
    public var byteCount: Int { count }

    @inline(__always)
    public mutating func write(_ byte: UInt8) { append(byte) }

    @inline(__always)
    public mutating func write(_ bytes: UnsafeRawBufferPointer) { append(contentsOf: bytes) }

    public mutating func truncate(to count: Int) { removeSubrange(count...) }

    public func withBytes<R>(in range: Range<Int>, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
}

/// A growable run of bytes in one allocation: many events' JSON encoded back to back, with
/// no allocation and no copy-on-write check per append (an array pays both on every call).
public final class ByteBuffer: ByteOutput {
    // Unchecked: a buffer belongs to one thread's loop, and a checked access per byte written
    // costs more than the write.
    @exclusivity(unchecked) private var base: UnsafeMutableRawPointer
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) public private(set) var byteCount = 0

    public init(capacity: Int = 64 * 1024) {
        self.capacity = max(capacity, 16)
        base = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    /// The bytes written, valid until the next write.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: byteCount) }

    @inline(__always)
    public func write(_ byte: UInt8) {
        if byteCount == capacity { grow(to: byteCount + 1) }
        base.storeBytes(of: byte, toByteOffset: byteCount, as: UInt8.self)
        byteCount += 1
    }

    @inline(__always)
    public func write(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n > 0, let from = bytes.baseAddress else { return }
        if byteCount + n > capacity { grow(to: byteCount + n) }
        (base + byteCount).copyMemory(from: from, byteCount: n)
        byteCount += n
    }

    public func truncate(to count: Int) { byteCount = min(byteCount, max(0, count)) }

    public func removeAll() { byteCount = 0 }

    public func withBytes<R>(in range: Range<Int>, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        precondition(range.lowerBound >= 0 && range.upperBound <= byteCount)
        return body(UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    /// Drops the first `count` bytes, moving the rest to the front.
    public func removeFirst(_ count: Int) {
        let n = min(max(0, count), byteCount)
        guard n > 0 else { return }
        base.copyMemory(from: base + n, byteCount: byteCount - n)  // memmove: the ranges may overlap
        byteCount -= n
    }

    private func grow(to needed: Int) {
        capacity = max(needed, capacity * 2)
        let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        grown.copyMemory(from: base, byteCount: byteCount)
        base.deallocate()
        base = grown
    }
}
