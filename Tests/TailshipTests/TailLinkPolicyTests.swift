import Foundation
import Glibc
import Testing

@testable import Tailship

/// Which links the tailer follows (`LinkPolicy`): the kernel's owner rule everywhere, and for
/// links a wildcard matched, a target under the source's own directories or its `link_targets`.
/// Run as root (as the agent on a host is), with links owned by `nobody` standing for a log
/// writer's.
@Suite(.serialized)
struct TailLinkPolicyTests {
    static let nobody: uid_t = 65534

    func makeDirectories(_ dir: TailTempDir, _ names: String...) throws {
        for name in names {
            try FileManager.default.createDirectory(atPath: dir.path(name), withIntermediateDirectories: true)
        }
    }

    /// `ln -s target path`, the link owned by `owner`.
    func link(_ path: String, to target: String, owner: uid_t) throws {
        #expect(symlink(target, path) == 0)
        try #require(lchown(path, owner, gid_t(Self.nobody)) == 0, "lchown needs root")
    }

    @Test func aLinkOwnedByAnotherUserThanItsTargetsIsRefusedEvenWhenNamed() throws {
        let dir = try TailTempDir()
        try makeDirectories(dir, "logs", "private")
        dir.write("private/secret.log", "root only\n")  // owned by root
        try link(dir.path("logs/stolen.log"), to: dir.path("private/secret.log"), owner: Self.nobody)
        try link(dir.path("logs/named.log"), to: dir.path("private/secret.log"), owner: Self.nobody)
        let sources = [
            TailSource(
                name: "a", paths: [dir.path("logs/*.log"), dir.path("logs/named.log")],
                linkTargets: [dir.path("private")])
        ]
        let snapshot = Discovery(sources: sources).scan()
        #expect(snapshot.files.isEmpty)
        #expect(Set(snapshot.refusedLinks.keys) == [dir.path("logs/stolen.log"), dir.path("logs/named.log")])
        #expect(snapshot.refusedLinks[dir.path("logs/stolen.log")]?.contains("owned by uid 65534") == true)
        #expect(snapshot.directories == [dir.path("logs")], "the target's directory is not watched")
    }

    @Test func aUsersLinkToItsOwnFileIsFollowed() throws {
        let dir = try TailTempDir()
        try makeDirectories(dir, "logs", "mine")
        let target = dir.write("mine/app.log", "mine\n")
        #expect(chown(target, Self.nobody, gid_t(Self.nobody)) == 0)
        try link(dir.path("logs/app.log"), to: target, owner: Self.nobody)
        let snapshot = Discovery(sources: [
            TailSource(name: "a", paths: [dir.path("logs/*.log")], linkTargets: [dir.path("mine")])
        ]).scan()
        #expect(Set(snapshot.files.keys) == [dir.path("logs/app.log")])
        #expect(snapshot.canonical[dir.path("logs/app.log")] == target)
        // The open checks that the file it got is still that user's (a swapped link is refused).
        #expect(snapshot.linkOwners[dir.path("logs/app.log")] == [Self.nobody])
        #expect(try ReadableFile(noSymlinks: target).status().owner == Self.nobody)
    }

    /// A directory link matched by a wildcard (`logs/*/app.log`, `logs/etc -> /etc`-like): its
    /// files are not read and the directory it leads to is not watched; a directory link the
    /// pattern names is the configuration's choice and is followed (owner rule permitting).
    @Test func aWildcardDirectoryLinkOutOfTheSourceIsNeitherReadNorWatched() throws {
        let dir = try TailTempDir()
        try makeDirectories(dir, "logs/web", "elsewhere", "release-7")
        dir.write("logs/web/app.log", "web\n")
        dir.write("elsewhere/app.log", "elsewhere\n")
        dir.write("release-7/app.log", "release\n")
        try link(dir.path("logs/evil"), to: dir.path("elsewhere"), owner: 0)
        try link(dir.path("current"), to: dir.path("release-7"), owner: 0)
        let snapshot = Discovery(sources: [
            TailSource(name: "a", paths: [dir.path("logs/*/app.log"), dir.path("current/app.log")])
        ]).scan()
        #expect(Set(snapshot.files.keys) == [dir.path("logs/web/app.log"), dir.path("current/app.log")])
        #expect(snapshot.refusedLinks.keys.contains(dir.path("logs/evil/app.log")))
        #expect(!snapshot.directories.contains(dir.path("logs/evil")))
        #expect(!snapshot.directories.contains(dir.path("elsewhere")))
        #expect(snapshot.canonical[dir.path("current/app.log")] == dir.path("release-7/app.log"))
    }

    /// The open after the check refuses a link anywhere in the path: a file swapped for a link,
    /// or a directory on the way, between the scan and the open is not followed.
    @Test func openingRefusesALinkInAnyComponent() throws {
        let dir = try TailTempDir()
        try makeDirectories(dir, "real")
        dir.write("real/app.log", "x\n")
        #expect(symlink(dir.path("real/app.log"), dir.path("swapped.log")) == 0)
        #expect(symlink(dir.path("real"), dir.path("through")) == 0)
        #expect(throws: SyscallError.self) { try ReadableFile(noSymlinks: dir.path("swapped.log")) }
        #expect(throws: SyscallError.self) { try ReadableFile(noSymlinks: dir.path("through/app.log")) }
        #expect(try ReadableFile(noSymlinks: dir.path("real/app.log")).status().size == 2)
    }
}
