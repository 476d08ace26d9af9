import Testing

@testable import Tailship

@Suite struct ConfigYAMLNodeTests {
    private func problems(_ text: String) -> [String] {
        do {
            _ = try YAMLNode.parse(text, file: "t.yaml")
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test func buildsTreeWithOneBasedMarksAndStyles() throws {
        let text = """
            a: 1
            b:
              - x
              - 'y'
            c: { d: "e" }
            """
        let root = try #require(try YAMLNode.parse(text, file: "t.yaml"))
        guard case .mapping(let entries, let mark) = root else {
            Issue.record("expected a mapping")
            return
        }
        #expect(mark == SourceMark(line: 1, column: 1))
        #expect(entries.map(\.key.value) == ["a", "b", "c"])
        #expect(entries[1].key.mark == SourceMark(line: 2, column: 1))
        #expect(root["a"] == .scalar(YAMLScalar("1", style: .plain, mark: SourceMark(line: 1, column: 4))))
        #expect(
            root["b"]
                == .sequence(
                    [
                        .scalar(YAMLScalar("x", style: .plain, mark: SourceMark(line: 3, column: 5))),
                        .scalar(YAMLScalar("y", style: .quoted, mark: SourceMark(line: 4, column: 5))),
                    ], mark: SourceMark(line: 3, column: 3)))
        #expect(root["c"]?.mark == SourceMark(line: 5, column: 4))
        #expect(root["c"]?["d"]?.scalar?.style == .quoted)
    }

    @Test func emptyDocumentIsNil() throws {
        #expect(try YAMLNode.parse("# only a comment\n", file: "t.yaml") == nil)
        #expect(try YAMLNode.parse("", file: "t.yaml") == nil)
    }

    @Test func nullScalars() throws {
        let root = try #require(try YAMLNode.parse("a:\nb: ~\nc: null\nd: ''\n", file: "t.yaml"))
        #expect(root["a"]?.isNull == true)
        #expect(root["b"]?.isNull == true)
        #expect(root["c"]?.isNull == true)
        #expect(root["d"]?.isNull == false)
    }

    @Test func aliasesResolveToTheAnchoredNode() throws {
        let root = try #require(try YAMLNode.parse("base: &b [x, y]\ncopy: *b\n", file: "t.yaml"))
        let anchored = YAMLNode.sequence(
            [
                .scalar(YAMLScalar("x", style: .plain, mark: SourceMark(line: 1, column: 11))),
                .scalar(YAMLScalar("y", style: .plain, mark: SourceMark(line: 1, column: 14))),
            ], mark: SourceMark(line: 1, column: 7))  // where its anchor starts
        #expect(root["base"] == anchored)
        #expect(root["copy"] == anchored)
    }

    @Test func unknownAliasIsAProblem() {
        #expect(problems("a: *nope\n") == ["t.yaml:1:4: unknown alias '*nope'; define '&nope' before using it"])
    }

    @Test func syntaxErrorCarriesLibyamlTextAndPosition() {
        #expect(
            problems("a: 1\nb: [x, y\n")
                == ["t.yaml:3:1: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at 2:4)"]
        )
    }

    @Test func secondDocumentIsRefused() {
        #expect(
            problems("a: 1\n---\nb: 2\n")
                == ["t.yaml:2:1: a configuration file holds one YAML document; remove the second one"])
    }

    @Test func duplicateKeyIsReportedAtTheSecondOne() throws {
        #expect(problems("a: 1\nb: 2\n  \na: 3\n") == ["t.yaml:4:1: duplicate key 'a' (first at 1:1)"])
        let result = YAMLTreeBuilder.build(bytes: Array("a: 1\na: 3\n".utf8), file: "t.yaml")
        #expect(result.isComplete)
        #expect(result.root?["a"]?.scalar?.value == "1")
    }

    @Test func nonScalarKeyIsAProblem() {
        #expect(problems("? [a]\n: 1\n") == ["t.yaml:1:3: a mapping key must be a plain string"])
    }

    @Test func deepNestingIsRefused() {
        let text = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(problems(text) == ["t.yaml:1:65: nesting deeper than 64 levels"])
    }

    @Test func invalidUTF8IsAReaderError() {
        var bytes = Array("a: 1\nb: ".utf8)
        bytes.append(0xff)
        let result = YAMLTreeBuilder.build(bytes: bytes, file: "t.yaml")
        #expect(!result.isComplete)
        #expect(result.problems.first?.mark == SourceMark(line: 2, column: 4))
        #expect(result.problems.first?.message.hasPrefix("invalid YAML: invalid leading UTF-8 octet") == true)
    }
}
