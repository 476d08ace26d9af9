import Testing

@testable import Tailship

@Suite struct RulesTemplateTests {
    @Test func parsesLiteralsAndFields() throws {
        let t = try Template(parsing: "user {{ user.id }} bought {{item}}{{item}}!")
        #expect(
            t.segments == [
                .literal("user "), .field("user.id"), .literal(" bought "), .field("item"),
                .field("item"), .literal("!"),
            ])
        #expect(t.referencedFields == ["user.id", "item"])
        #expect(t.literalValue == nil)
    }

    @Test func literalTemplates() throws {
        #expect(try Template(parsing: "web").literalValue == "web")
        #expect(try Template(parsing: "").literalValue == "")
        #expect(try Template(parsing: "a { b } c}}").literalValue == "a { b } c}}")
    }

    @Test func renderLooksUpFieldsAndFailsOnMissing() throws {
        let t = try Template(parsing: "{{a}}-{{b}}")
        #expect(t.render { ["a": "1", "b": ""][$0] } == "1-")
        #expect(t.render { ["a": "1"][$0] } == nil)
    }

    @Test(arguments: [("x {{user", 2), ("{{}}", 0), ("ok {{ }}", 3)])
    func malformedTemplatesAreErrors(text: String, offset: Int) {
        #expect(throws: TemplateError.self) { try Template(parsing: text) }
        do { _ = try Template(parsing: text) } catch { #expect(error.offset == offset) }
    }
}
