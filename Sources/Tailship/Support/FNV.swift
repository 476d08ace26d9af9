/// FNV-1a with the published 64-bit parameters (offset basis `0xcbf29ce484222325`, prime
/// `0x100000001b3`): file fingerprints and the content basis of `$insert_id`s. Fixed forever:
/// both are written to disk and sent to the API, so changing it would re-key every line.
public struct FNV64: Sendable {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public private(set) var value: UInt64 = FNV64.offsetBasis

    public init() {}

    @inline(__always)
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var hash = value
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        value = hash
    }

    public mutating func add<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        var hash = value
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        value = hash
    }

    /// The hash of `bytes`.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var fnv = FNV64()
        fnv.add(bytes)
        return fnv.value
    }

    /// The hash of `bytes`.
    public static func hash<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
        var fnv = FNV64()
        fnv.add(bytes)
        return fnv.value
    }
}

/// FNV-1a with the 128-bit parameters (offset basis `0x6c62272e07bb014262b821756295c58d`,
/// prime `2^88 + 0x13b`), on two 64-bit halves.
struct FNV128 {
    var high: UInt64 = 0x6c62_272e_07bb_0142
    var low: UInt64 = 0x62b8_2175_6295_c58d

    mutating func add<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for b in bytes {
            low ^= UInt64(b)
            // x * (2^88 + 0x13b) mod 2^128 = x * 0x13b + (x << 88)
            let (carry, lowProduct) = low.multipliedFullWidth(by: 0x13b)
            let highProduct = high &* 0x13b &+ carry &+ (low << 24)
            high = highProduct
            low = lowProduct
        }
    }

    /// `uuidString`'s bytes appended to `out`, with no String in between.
    func appendUUID(to out: inout some ByteOutput) {
        var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &buffer) { raw in
            writeUUID(into: raw)
            out.write(UnsafeRawBufferPointer(rebasing: raw[0..<36]))
        }
    }

    /// The digest as 8-4-4-4-12 lowercase hex with version 8 and the RFC 9562 variant.
    var uuidString: String {
        String(unsafeUninitializedCapacity: 36) { buffer in
            writeUUID(into: UnsafeMutableRawBufferPointer(buffer))
            return 36
        }
    }

    /// Writes the 36 characters of `uuidString` at the start of `raw`.
    private func writeUUID(into raw: UnsafeMutableRawBufferPointer) {
        let h = (high & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_8000
        let l = (low & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000
        var n = 0
        func hex(_ v: UInt64, _ nibbles: Int) {
            for i in stride(from: nibbles - 1, through: 0, by: -1) {
                let d = UInt8((v >> (UInt64(i) * 4)) & 0xf)
                raw[n] = d < 10 ? 0x30 + d : 0x57 + d
                n += 1
            }
        }
        func dash() {
            raw[n] = 0x2d
            n += 1
        }
        hex(h >> 32, 8)
        dash()
        hex(h >> 16, 4)
        dash()
        hex(h, 4)
        dash()
        hex(l >> 48, 4)
        dash()
        hex(l, 12)
    }
}
