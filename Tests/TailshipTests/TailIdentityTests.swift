import Foundation
import Testing

@testable import Tailship

struct TailIdentityTests {
    @Test func fnvMatchesTheReferenceVectors() {
        // Reference values of 64-bit FNV-1a.
        #expect(Array("".utf8).withUnsafeBytes(FileIdentity.fnv1a64) == 0xcbf2_9ce4_8422_2325)
        #expect(Array("a".utf8).withUnsafeBytes(FileIdentity.fnv1a64) == 0xaf63_dc4c_8601_ec8c)
        #expect(Array("foobar".utf8).withUnsafeBytes(FileIdentity.fnv1a64) == 0x8594_4171_f739_67e8)
    }

    @Test func emptyFileHasNoIdentityYet() throws {
        let dir = try TailTempDir()
        let path = dir.write("empty.log", "")
        #expect(try FileIdentity.compute(for: ReadableFile(path: path)) == nil)
    }

    @Test func identityCoversAtMostTheFirstKibibyteAndSurvivesGrowth() throws {
        let dir = try TailTempDir()
        let path = dir.write("a.log", "short\n")
        let first = try #require(try FileIdentity.compute(for: ReadableFile(path: path)))
        #expect(first.fingerprintLength == 6)
        let status = try FileStatus.of(path: path)
        #expect(first.device == status.device && first.inode == status.inode)
        dir.append("a.log", String(repeating: "y", count: 5000))
        #expect(try first.matches(ReadableFile(path: path)))
        let later = try #require(try FileIdentity.compute(for: ReadableFile(path: path)))
        #expect(later.fingerprintLength == FileIdentity.maxFingerprintBytes)
    }

    @Test func rewrittenOrReplacedFileDoesNotMatch() throws {
        let dir = try TailTempDir()
        let path = dir.write("a.log", "first content\n")
        let identity = try #require(try FileIdentity.compute(for: ReadableFile(path: path)))
        // Deleted and recreated: the inode may well be reused, the fingerprint tells them apart.
        try FileManager.default.removeItem(atPath: path)
        _ = dir.write("a.log", "other content\n")
        let reopened = try ReadableFile(path: path)
        #expect(try !identity.matches(reopened))
        let fresh = try #require(try FileIdentity.compute(for: reopened))
        #expect(fresh.fingerprint != identity.fingerprint)
        // Shorter than the recorded fingerprint length: cannot match either.
        _ = dir.write("b.log", "tiny")
        #expect(try !identity.matches(ReadableFile(path: dir.path("b.log"))))
    }

    @Test func sameInodeWithDifferentBytesDoesNotMatch() throws {
        let dir = try TailTempDir()
        let path = dir.write("a.log", "hello world\n")
        let file = try ReadableFile(path: path)
        let identity = try #require(try FileIdentity.compute(for: file))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Array("HELLO world\n".utf8))
        try handle.close()
        #expect(try FileStatus.of(path: path).inode == identity.inode)
        #expect(try !identity.matches(file))
    }
}
