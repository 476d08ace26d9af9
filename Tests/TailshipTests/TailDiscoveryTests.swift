import Foundation
import Testing

@testable import Tailship

struct TailDiscoveryTests {
    @Test func globsMatchFilesAndNameTheirDirectories() throws {
        let dir = try TailTempDir()
        dir.write("a.log", "")
        dir.write("b.log", "")
        dir.write("c.txt", "")
        dir.write(".hidden.log", "")
        dir.write("a1.log", "")
        let found = Glob(dir.root + "/*.log").expand()
        #expect(found.files == [dir.path("a.log"), dir.path("a1.log"), dir.path("b.log")])
        #expect(found.directories == [dir.root])
        #expect(Glob(dir.root + "/a?.log").expand().files == [dir.path("a1.log")])
        #expect(Glob(dir.root + "/[bc].*").expand().files == [dir.path("b.log"), dir.path("c.txt")])
    }

    @Test func doubleStarMatchesAnyDepth() throws {
        let dir = try TailTempDir()
        try FileManager.default.createDirectory(atPath: dir.path("x/y"), withIntermediateDirectories: true)
        dir.write("top.log", "")
        dir.write("x/mid.log", "")
        dir.write("x/y/deep.log", "")
        let found = Glob(dir.root + "/**/*.log").expand()
        #expect(Set(found.files) == [dir.path("top.log"), dir.path("x/mid.log"), dir.path("x/y/deep.log")])
        #expect(Set(found.directories) == [dir.root, dir.path("x"), dir.path("x/y")])
    }

    @Test func discoveryExcludesAndKeepsRegularFilesForTheFirstSource() throws {
        let dir = try TailTempDir()
        dir.write("app.log", "")
        dir.write("app.log.gz", "")
        dir.write("skip-me.log", "")
        try FileManager.default.createDirectory(atPath: dir.path("sub.log"), withIntermediateDirectories: true)
        let discovery = Discovery(sources: [
            TailSource(name: "a", paths: [dir.root + "/*.log*"], exclude: ["*.gz", dir.root + "/skip-*"]),
            TailSource(name: "b", paths: [dir.root + "/*"]),
        ])
        let snapshot = discovery.scan()
        #expect(snapshot.files == [dir.path("app.log"): 0, dir.path("app.log.gz"): 1, dir.path("skip-me.log"): 1])
        #expect(snapshot.directories == [dir.root])
    }

    @Test func missingDirectoryIsCoveredByItsNearestAncestor() throws {
        let dir = try TailTempDir()
        let discovery = Discovery(sources: [TailSource(name: "a", paths: [dir.root + "/later/logs/*.log"])])
        #expect(discovery.scan().directories == [dir.root])
        try FileManager.default.createDirectory(atPath: dir.path("later/logs"), withIntermediateDirectories: true)
        #expect(discovery.scan().directories == [dir.path("later/logs")])
    }
}
