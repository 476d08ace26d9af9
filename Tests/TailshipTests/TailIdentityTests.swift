import Foundation
import Testing

@testable import Tailship

struct TailIdentityTests {
    @Test func fnvMatchesTheReferenceVectors() {
        // Reference values of 64-bit FNV-1a.
        #expect(Array("".utf8).withUnsafeBytes(FNV64.hash) == 0xcbf2_9ce4_8422_2325)
        #expect(Array("a".utf8).withUnsafeBytes(FNV64.hash) == 0xaf63_dc4c_8601_ec8c)
        #expect(Array("foobar".utf8).withUnsafeBytes(FNV64.hash) == 0x8594_4171_f739_67e8)
    }

    /// An empty file has an identity too (its position is recorded at first sight): its inode
    /// and a fingerprint of no bytes, which any content on that inode matches until upgraded.
    @Test func anEmptyFileHasAnIdentityOfNoBytes() throws {
        let dir = try TailTempDir()
        let path = dir.write("empty.log", "")
        let identity = try FileIdentity.compute(for: ReadableFile(path: path))
        #expect(identity.fingerprintLength == 0 && identity.fingerprint == FNV64.offsetBasis)
        dir.append("empty.log", "later\n")
        #expect(try identity.matches(ReadableFile(path: path)))
    }

    @Test func identityCoversAtMostTheFirstKibibyteAndSurvivesGrowth() throws {
        let dir = try TailTempDir()
        let path = dir.write("a.log", "short\n")
        let first = try FileIdentity.compute(for: ReadableFile(path: path))
        #expect(first.fingerprintLength == 6)
        let status = try FileStatus.of(path: path)
        #expect(first.device == status.device && first.inode == status.inode)
        dir.append("a.log", String(repeating: "y", count: 5000))
        #expect(try first.matches(ReadableFile(path: path)))
        let later = try FileIdentity.compute(for: ReadableFile(path: path))
        #expect(later.fingerprintLength == FileIdentity.maxFingerprintBytes)
    }

    /// Growing, a fingerprint is extended over the new bytes on top of those it covered, never
    /// derived afresh; a head that no longer begins with the covered bytes is a rewrite.
    @Test func anUpgradeExtendsTheFingerprintOverTheSameFirstBytes() {
        let small = Array("abc\n".utf8)
        let identity = small.withUnsafeBytes { FileIdentity(device: 1, inode: 9, head: $0) }
        #expect(identity.fingerprintLength == 4 && identity.fingerprint == FNV64.hash(small))
        let grown = Array("abc\ndef\n".utf8)
        let upgraded = grown.withUnsafeBytes { identity.upgraded(head: $0) }
        #expect(upgraded == FileIdentity(device: 1, inode: 9, fingerprint: FNV64.hash(grown), fingerprintLength: 8))
        #expect(Array("xbc\ndef\n".utf8).withUnsafeBytes { identity.upgraded(head: $0) } == nil)
        let full = [UInt8](repeating: 0x61, count: 3000)
        let complete = full.withUnsafeBytes { FileIdentity(device: 1, inode: 9, head: $0) }
        #expect(complete.fingerprintLength == 1024 && complete.isComplete)
        #expect(full.withUnsafeBytes { complete.upgraded(head: $0) } == complete)
    }

    @Test func rewrittenOrReplacedFileDoesNotMatch() throws {
        let dir = try TailTempDir()
        let path = dir.write("a.log", "first content\n")
        let identity = try FileIdentity.compute(for: ReadableFile(path: path))
        // Deleted and recreated: the inode may well be reused, the fingerprint tells them apart.
        try FileManager.default.removeItem(atPath: path)
        _ = dir.write("a.log", "other content\n")
        let reopened = try ReadableFile(path: path)
        #expect(try !identity.matches(reopened))
        let fresh = try FileIdentity.compute(for: reopened)
        #expect(fresh.fingerprint != identity.fingerprint)
        // Shorter than the recorded fingerprint length: cannot match either.
        _ = dir.write("b.log", "tiny")
        #expect(try !identity.matches(ReadableFile(path: dir.path("b.log"))))
    }

    @Test func sameInodeWithDifferentBytesDoesNotMatch() throws {
        let dir = try TailTempDir()
        let path = dir.write("a.log", "hello world\n")
        let file = try ReadableFile(path: path)
        let identity = try FileIdentity.compute(for: file)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Array("HELLO world\n".utf8))
        try handle.close()
        #expect(try FileStatus.of(path: path).inode == identity.inode)
        #expect(try !identity.matches(file))
    }
}
