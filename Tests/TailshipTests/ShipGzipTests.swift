import Testing

@testable import Tailship

@Suite struct ShipGzipTests {
    static func sample(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 59) + 0x41  // compressible: 32 letters
        }
    }

    @Test(arguments: [0, 1, 100, 70_000, 1_000_000])
    func roundTrips(size: Int) throws {
        let input = Self.sample(size, seed: UInt64(size))
        let compressed = try Gzip.gzip(input)
        #expect(compressed.prefix(2) == [0x1F, 0x8B])  // gzip magic
        #expect(try Gzip.gunzip(compressed) == input)
    }

    @Test func reusesOneStreamAcrossBodies() throws {
        let compressor = try GzipCompressor(level: 1)
        var buffer = [UInt8]()
        for size in [50_000, 10, 200_000, 0] {
            let input = Self.sample(size, seed: 7)
            try compressor.compress(input, into: &buffer)
            #expect(try Gzip.gunzip(buffer) == input)
        }
        let input = Self.sample(100_000, seed: 9)
        #expect(try compressor.compress(input) == compressor.compress(input))  // deterministic after reset
    }

    /// A compressed body in flight holds its own size, not the uncompressed batch's: the
    /// delivery loop keeps up to `max_in_flight` of them (docs/delivery.md, "Bounded memory").
    @Test func compressedBodiesAreSizedToTheirContent() throws {
        let compressor = try GzipCompressor(level: 1)
        let input = Self.sample(2 * 1024 * 1024, seed: 3)
        var first = [UInt8]()
        try compressor.compress(input, into: &first)
        let kept = first
        var second = [UInt8]()
        try compressor.compress(input, into: &second)
        #expect(kept == second)
        #expect(try Gzip.gunzip(kept) == input)
        #expect(kept.count < input.count * 3 / 4)
        #expect(kept.capacity < kept.count + 64 * 1024)
    }

    /// Bodies that shrink by half or more are compressed into half their size; the others (5
    /// bits of noise a byte shrink to about 5/8, 8 bits not at all) into libdeflate's bound; a
    /// compressor that went to the bound comes back to half for a body that shrinks well. Every
    /// member inflates to its body, whichever order the bodies come in.
    @Test(arguments: [[0, 5, 8, 0], [8, 8, 2, 5, 0], [5, 0, 5]])
    func bodiesThatBarelyShrinkStillCompress(bitsOfNoise: [Int]) throws {
        let compressor = try GzipCompressor(level: 1)
        for bits in bitsOfNoise {
            var state = UInt64(42 + bits)
            let input: [UInt8] = (0..<300_000).map { i in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return bits == 0 ? UInt8(truncatingIfNeeded: i % 7) : UInt8(truncatingIfNeeded: state >> (64 - bits))
            }
            let compressed = try compressor.compress(input)
            #expect(try Gzip.gunzip(compressed) == input)
            #expect(GzipCompressor.inflate(compressed, size: input.count) == input)
            // The same bytes as a fresh compressor's: the room it was made in does not show.
            #expect(try compressed == GzipCompressor(level: 1).compress(input))
        }
    }

    /// `inflate` gives back a body set aside only when it is exactly that body.
    @Test func inflateRefusesWhatIsNotTheBodyOfThatSize() throws {
        let input = Self.sample(10_000, seed: 5)
        let compressed = try GzipCompressor(level: 1).compress(input)
        #expect(GzipCompressor.inflate(compressed, size: input.count) == input)
        #expect(GzipCompressor.inflate(compressed, size: input.count - 1) == nil)
        #expect(GzipCompressor.inflate(compressed, size: input.count + 1) == nil)
        #expect(GzipCompressor.inflate(Array(compressed.dropLast(9)), size: input.count) == nil)
        #expect(GzipCompressor.inflate([1, 2, 3], size: 3) == nil)
    }

    @Test func higherLevelIsNoLarger() throws {
        let input = Self.sample(300_000, seed: 3)
        #expect(try GzipCompressor(level: 9).compress(input).count <= GzipCompressor(level: 1).compress(input).count)
    }

    @Test func joinsConcatenatedMembers() throws {
        let a = Self.sample(1000, seed: 1)
        let b = Self.sample(2000, seed: 2)
        #expect(try Gzip.gunzip(Gzip.gzip(a) + Gzip.gzip(b)) == a + b)
    }

    @Test func rejectsCorruptAndTruncatedInput() throws {
        let compressed = try Gzip.gzip(Self.sample(10_000, seed: 5))
        #expect(throws: GzipError.self) { try Gzip.gunzip(Array(compressed.prefix(compressed.count / 2))) }
        var corrupt = compressed
        corrupt[3] = 0xFF  // reserved flag bits
        #expect(throws: GzipError.self) { try Gzip.gunzip(corrupt) }
        #expect(throws: GzipError.self) { try Gzip.gunzip(Array("not gzip at all".utf8)) }
        #expect(throws: GzipError.self) { try Gzip.gunzip([]) }
    }
}
