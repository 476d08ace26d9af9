import Foundation
import Glibc
import Testing

@testable import Tailship

/// Symlinked files and directories: matched through the link, watched where the writes happen,
/// and followed when the link is retargeted.
@Suite(.serialized)
struct TailSymlinkTests {
    /// Points `link` (a path inside `dir`) at `target` atomically, as `ln -sfn` through a rename does.
    func pointLink(_ dir: TailTempDir, _ link: String, to target: String) throws {
        let temporary = dir.path(link + ".tmp")
        #expect(symlink(target, temporary) == 0)
        #expect(rename(temporary, dir.path(link)) == 0)
    }

    /// A tailer of `glob` from the beginning, with no periodic rescan: only inotify reports changes.
    func inotifyOnlyTailer(_ glob: String, _ sink: CollectingSink, linkTargets: [String] = []) -> Tailer {
        var options = TailTailerTests.fastOptions
        options.rescanInterval = .seconds(3600)
        return Tailer(
            sources: [TailSource(name: "app", paths: [glob], startAt: .beginning, linkTargets: linkTargets)],
            sink: sink,
            options: options, logger: TailTailerTests.quietLogger)
    }

    func makeDirectories(_ dir: TailTempDir, _ names: String...) throws {
        for name in names {
            try FileManager.default.createDirectory(atPath: dir.path(name), withIntermediateDirectories: true)
        }
    }

    @Test func aLinkIsMatchedAndItsTargetsDirectoryWatched() throws {
        let dir = try TailTempDir()
        try makeDirectories(dir, "logs", "target")
        dir.write("target/app-1.log", "")
        dir.write("logs/plain.log", "")
        try pointLink(dir, "logs/current.log", to: dir.path("target/app-1.log"))
        #expect(symlink(dir.path("target/missing.log"), dir.path("logs/dangling.log")) == 0)
        #expect(symlink(dir.path("logs/loop.log"), dir.path("logs/loop.log")) == 0)
        let found = Glob(dir.path("logs/*.log")).expand()
        #expect(
            found.links == [dir.path("logs/current.log"), dir.path("logs/dangling.log"), dir.path("logs/loop.log")])
        let snapshot = Discovery(sources: [
            TailSource(name: "a", paths: [dir.path("logs/*.log")], linkTargets: [dir.path("target")])
        ]).scan()
        // The dangling link and the loop match nothing (stat fails) and cost no error.
        #expect(Set(snapshot.files.keys) == [dir.path("logs/current.log"), dir.path("logs/plain.log")])
        #expect(snapshot.linkTargets == [dir.path("target/app-1.log"): [dir.path("logs/current.log")]])
        #expect(snapshot.canonical == [dir.path("logs/current.log"): dir.path("target/app-1.log")])
        #expect(snapshot.directories == [dir.path("logs"), dir.path("target")])
        // Without `link_targets`, a link the wildcard matched may not leave the source's directory.
        let strict = Discovery(sources: [TailSource(name: "a", paths: [dir.path("logs/*.log")])]).scan()
        #expect(Set(strict.files.keys) == [dir.path("logs/plain.log")])
        #expect(strict.directories == [dir.path("logs")])
        #expect(strict.refusedLinks[dir.path("logs/current.log")]?.contains("outside the source's directories") == true)
        // A literal path that is a link is reported too; a polled source watches nothing.
        #expect(Glob(dir.path("logs/current.log")).expand().links == [dir.path("logs/current.log")])
        let polled = TailSource(name: "p", paths: [dir.path("logs/*.log")], pollInterval: .seconds(1))
        #expect(Discovery(sources: [polled]).scan().directories.isEmpty)
    }

    @Test func doubleStarDoesNotFollowALinkedDirectoryButAPatternDoes() throws {
        let dir = try TailTempDir()
        try makeDirectories(dir, "real/x", "logs")
        dir.write("real/x/deep.log", "")
        #expect(symlink(dir.path("real"), dir.path("logs/linked")) == 0)
        #expect(symlink(dir.path("logs"), dir.path("logs/up")) == 0)  // a loop for `**`
        #expect(Glob(dir.path("logs/**/*.log")).expand().files.isEmpty)
        #expect(Glob(dir.path("logs/*/x/*.log")).expand().files == [dir.path("logs/linked/x/deep.log")])
    }

    @Test func writesToALinksTargetAreReadWithoutARescan() throws {
        let dir = try TailTempDir()
        try makeDirectories(dir, "logs", "target")
        dir.write("target/app-1.log", "one 1\n")
        try pointLink(dir, "logs/current.log", to: dir.path("target/app-1.log"))
        let sink = CollectingSink()
        let tailer = inotifyOnlyTailer(dir.path("logs/*.log"), sink, linkTargets: [dir.path("target")])
        try tailer.start()
        defer { tailer.stop() }
        #expect(eventually { sink.texts == ["one 1"] })
        dir.append("target/app-1.log", "one 2\n")
        #expect(eventually(2) { sink.texts.count == 2 })
        // Retargeted (a rename in the watched `logs/`): the old target is drained, the new one read.
        dir.write("target/app-2.log", "two 1\n")
        try pointLink(dir, "logs/current.log", to: dir.path("target/app-2.log"))
        #expect(eventually(2) { sink.texts.count == 3 })
        dir.append("target/app-2.log", "two 2\n")
        #expect(eventually(2) { sink.texts.count == 4 })
        usleep(300_000)
        #expect(sink.texts == ["one 1", "one 2", "two 1", "two 2"])
        #expect(sink.seen.withLock { $0.paths.values.allSatisfy { $0 == dir.path("logs/current.log") } })
    }

    @Test func aRetargetedDirectoryLinkIsWatchedAgain() throws {
        let dir = try TailTempDir()
        try makeDirectories(dir, "real1", "real2")
        dir.write("real1/a.log", "a 1\n")
        try pointLink(dir, "app", to: dir.path("real1"))
        let sink = CollectingSink()
        let tailer = inotifyOnlyTailer(dir.path("app/*.log"), sink)
        try tailer.start()
        defer { tailer.stop() }
        #expect(eventually { sink.texts == ["a 1"] })
        dir.write("real1/b.log", "b 1\n")  // created through the watch on real1
        #expect(eventually(2) { sink.texts.count == 2 })
        // The link is retargeted in its own directory, which is watched for that reason: the new
        // target is listed and watched at once.
        try pointLink(dir, "app", to: dir.path("real2"))
        usleep(200_000)
        dir.write("real2/c.log", "c 1\n")
        #expect(eventually(2) { sink.texts.count == 3 }, "a file in the new target is seen through its watch")
        dir.append("real1/a.log", "a 2\n")  // no longer matched: real1 is not tailed any more
        usleep(700_000)
        #expect(sink.texts == ["a 1", "b 1", "c 1"])
    }
}
