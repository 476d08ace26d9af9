import Testing

@testable import Tailship

@Test func identityTextIsStable() {
    let id = FileIdentity(device: 0x803, inode: 42, fingerprint: 0xabc, fingerprintLength: 17)
    #expect(id.description == "803:2a:abc/17")
    #expect(FileKey(raw: 0xab).description == "00000000000000ab")
}
