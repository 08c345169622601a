import Foundation
import Tokenizer
import XCTest

/// DeepSeek-V3.2-Exp's chat format (spec §10).
final class ChatTemplateTests: XCTestCase {
    func testSpecConversation() throws {
        let messages = [
            ChatMessage(role: "user", content: "hello"),
            ChatMessage(role: "assistant", content: "Hello! I am DeepSeek."),
            ChatMessage(role: "user", content: "1+1=?"),
        ]
        let prompt = try ChatTemplate.render(messages, addGenerationPrompt: true, thinking: true)
        XCTAssertEqual(prompt, TokenizerTests.specText)
        XCTAssertEqual(Fixture.tokenizer.encode(prompt), TokenizerTests.specIDs)
        let plain = try ChatTemplate.render(messages, addGenerationPrompt: true, thinking: false)
        XCTAssertEqual(Fixture.tokenizer.encode(plain), Array(TokenizerTests.specIDs.dropLast()) + [128_799])
        let noPrompt = try ChatTemplate.render(messages, addGenerationPrompt: false, thinking: true)
        XCTAssertEqual(Fixture.tokenizer.encode(noPrompt), Array(TokenizerTests.specIDs.dropLast(2)))
    }

    func testSystemPromptsAreJoinedAtTheStart() throws {
        let messages = [
            ChatMessage(role: "system", content: "Be brief."),
            ChatMessage(role: "user", content: "Hi"),
            ChatMessage(role: "system", content: "Be kind."),
        ]
        XCTAssertEqual(
            try ChatTemplate.render(messages, addGenerationPrompt: true, thinking: false),
            "<｜begin▁of▁sentence｜>Be brief.\n\nBe kind.<｜User｜>Hi<｜Assistant｜></think>")
        XCTAssertEqual(try ChatTemplate.render([], addGenerationPrompt: false, thinking: false), "<｜begin▁of▁sentence｜>")
    }

    func testAssistantReasoningIsDropped() throws {
        let messages = [
            ChatMessage(role: "user", content: "Q"),
            ChatMessage(role: "assistant", content: "<think>step 1</think>A</think>B"),
        ]
        XCTAssertEqual(
            try ChatTemplate.render(messages, addGenerationPrompt: false, thinking: true),
            "<｜begin▁of▁sentence｜><｜User｜>Q<｜Assistant｜></think>A</think>B<｜end▁of▁sentence｜>")
    }

    func testToolOutputs() throws {
        let messages = [
            ChatMessage(role: "user", content: "Weather?"),
            ChatMessage(role: "tool", content: "{\"temp\": 21}"),
        ]
        let afterTool = "<｜begin▁of▁sentence｜><｜User｜>Weather?<｜tool▁output▁begin｜>{\"temp\": 21}<｜tool▁output▁end｜>"
        XCTAssertEqual(try ChatTemplate.render(messages, addGenerationPrompt: true, thinking: false), afterTool)
        let answered = messages + [ChatMessage(role: "assistant", content: "It is 21 degrees.")]
        XCTAssertEqual(
            try ChatTemplate.render(answered, addGenerationPrompt: true, thinking: false),
            afterTool + "It is 21 degrees.<｜end▁of▁sentence｜><｜Assistant｜></think>")
    }

    func testUnknownRoleThrows() {
        XCTAssertThrowsError(
            try ChatTemplate.render([ChatMessage(role: "narrator", content: "x")], addGenerationPrompt: true, thinking: false)
        ) { error in
            XCTAssertEqual(error as? TokenizerError, .unknownRole("narrator"))
            XCTAssertTrue("\(error)".contains("narrator"))
        }
    }

    func testMessagesDecodeFromJSON() throws {
        let json = #"[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]"#
        let messages = try JSONDecoder().decode([ChatMessage].self, from: Data(json.utf8))
        XCTAssertEqual(messages, [ChatMessage(role: "user", content: "hi"), ChatMessage(role: "assistant", content: "hello")])
    }
}
