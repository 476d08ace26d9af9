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

    @Test func alternativesAndAQuotedDefault() throws {
        let t = try Template(parsing: "{{ remote_user | remote_addr }} on {{plan|'free'}}")
        #expect(
            t.segments == [
                .choice(fields: ["remote_user", "remote_addr"], fallback: nil), .literal(" on "),
                .choice(fields: ["plan"], fallback: "free"),
            ])
        #expect(t.referencedFields == ["remote_user", "remote_addr", "plan"])
        #expect(t.render { ["remote_addr": "10.0.0.1"][$0] } == "10.0.0.1 on free")
        #expect(t.render { ["remote_user": "bob", "plan": "pro"][$0] } == "bob on pro")
        #expect(t.render { ["plan": "pro"][$0] } == nil, "no alternative and no default: missing")
        #expect(try Template(parsing: #"{{a|"x y"}}"#).render { _ in nil } == "x y")
        #expect(try Template(parsing: "{{a|'x|y'}}").render { _ in nil } == "x|y", "a | inside the quotes")
    }

    @Test(arguments: ["{{'x'|a}}", "{{'x'}}", "{{a||b}}", "{{a|'x'|b}}"])
    func malformedAlternativesAreRefused(text: String) {
        #expect(throws: TemplateError.self) { try Template(parsing: text) }
    }
}
