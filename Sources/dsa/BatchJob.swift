import Engine
import Foundation
import Tokenizer

/// `generate --input`: a JSONL file of requests completed in batches. Every input line gets one
/// output line, in input order (an error record for a malformed one); `--resume` skips the lines
/// an earlier, interrupted run already wrote.
struct BatchJob {
    let input: String, output: String, resume: Bool
    let codec: TextCodec
    let defaults: SamplingParams

    /// One input line: its request, or why it cannot run.
    enum Item { case request(id: String, prompt: [Int], params: SamplingParams), failed(id: String?, message: String) }

    /// An input line until its result is written: running, or with its (error) record ready.
    enum Slot { case running(id: String, Engine.Sequence), done([String: Any]) }

    func run(_ engine: LLMEngine, chat: Bool, thinking: Bool) throws {
        guard let text = try? String(contentsOfFile: input, encoding: .utf8) else { throw EngineError("cannot read \(input)") }
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        let skip = resume ? completedLines() : 0
        if !resume || !FileManager.default.fileExists(atPath: output) {
            guard FileManager.default.createFile(atPath: output, contents: nil) else { throw EngineError("cannot create \(output)") }
        }
        guard let out = FileHandle(forWritingAtPath: output) else { throw EngineError("cannot write \(output)") }
        defer { try? out.close() }
        try out.seekToEnd()

        var pending = [Int: Slot]()  // by line index, until written in order
        for (i, line) in lines.enumerated().dropFirst(skip) {
            switch parse(line, number: i + 1, chat: chat, thinking: thinking) {
            case let .request(id, prompt, params):
                do { pending[i] = .running(id: id, try engine.add(prompt: prompt, params: params)) } catch {
                    pending[i] = .done(["id": id, "line": i + 1, "error": "\(error)"])
                }
            case let .failed(id, message):
                pending[i] = .done(["id": id ?? NSNull(), "line": i + 1, "error": message])
            }
        }
        var next = skip, tokens = 0
        let start = Date()
        var progress = Progress(total: lines.count - skip)
        while next < lines.count {
            if engine.hasWork { try engine.step() }
            while next < lines.count, let slot = pending[next], let record = finished(slot, line: next + 1) {
                out.write(try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) + Data("\n".utf8))
                tokens += (record["completion_tokens"] as? Int) ?? 0
                if case let .running(_, seq) = slot { engine.release(seq) }
                pending[next] = nil
                next += 1
                progress.update(done: next - skip, tokens: tokens, seconds: Date().timeIntervalSince(start))
            }
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(start)
        FileHandle.standardError.write(Data(String(format: "%d requests, %d tokens generated in %.2f s: %.1f tokens/s (batch of up to %d)\n",
                                                   lines.count - skip, tokens, seconds, Double(tokens) / seconds, engine.maxBatch).utf8))
    }

    /// The output record of a line once it is final (an error, or a finished sequence).
    private func finished(_ slot: Slot, line: Int) -> [String: Any]? {
        switch slot {
        case let .done(record): return record
        case let .running(id, seq):
            guard seq.isFinished else { return nil }
            return ["id": id, "line": line, "text": seq.text, "tokens": seq.generated, "prompt_tokens": seq.prompt.count,
                    "completion_tokens": seq.generated.count, "finish_reason": seq.finishReason!]
        }
    }

    private func parse(_ line: String, number: Int, chat: Bool, thinking: Bool) -> Item {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            return .failed(id: nil, message: "line \(number) is not a JSON object")
        }
        let id = (object["id"]).map { "\($0)" } ?? "\(number)"
        do {
            var fields = try JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults)) as! [String: Any]
            fields.merge(object.filter { $0.key != "prompt" && $0.key != "messages" && $0.key != "id" }) { _, new in new }
            let params = try JSONDecoder().decode(SamplingParams.self, from: JSONSerialization.data(withJSONObject: fields))
            try params.validate()
            struct Text: Decodable { let prompt: String?; let messages: [ChatMessage]? }  // exact strings (even a leading U+FEFF)
            let text = try JSONDecoder().decode(Text.self, from: Data(line.utf8))
            if let prompt = text.prompt {
                return .request(id: id, prompt: try codec.encode(prompt, chat: chat, thinking: thinking), params: params)
            }
            if let messages = text.messages {
                let rendered = try ChatTemplate.render(messages, addGenerationPrompt: true, thinking: thinking)
                return .request(id: id, prompt: try codec.require().encode(rendered), params: params)
            }
            return .failed(id: id, message: "line \(number) has neither \"prompt\" (text) nor \"messages\"")
        } catch let error as DecodingError {
            return .failed(id: id, message: "line \(number): \(describe(error))")
        } catch {
            return .failed(id: id, message: "line \(number): \(error)")
        }
    }

    private func describe(_ error: DecodingError) -> String {
        switch error {
        case let .typeMismatch(_, c), let .valueNotFound(_, c), let .dataCorrupted(c):
            return "field \"\(c.codingPath.map(\.stringValue).joined(separator: "."))\" is invalid (\(c.debugDescription))"
        case let .keyNotFound(key, _): return "field \"\(key.stringValue)\" is missing"
        @unknown default: return "\(error)"
        }
    }

    /// Complete lines already in the output (a torn last line is dropped and rewritten).
    private func completedLines() -> Int {
        guard let data = FileManager.default.contents(atPath: output) else { return 0 }
        let complete = data.lastIndex(of: UInt8(ascii: "\n")).map { data.prefix(through: $0) } ?? Data()
        if complete.count < data.count, let handle = FileHandle(forWritingAtPath: output) {
            try? handle.truncate(atOffset: UInt64(complete.count)); try? handle.close()
        }
        return complete.filter { $0 == UInt8(ascii: "\n") }.count
    }
}

/// A one-line progress bar on stderr.
struct Progress {
    let total: Int
    var last = Date.distantPast

    mutating func update(done: Int, tokens: Int, seconds: Double) {
        guard Date().timeIntervalSince(last) > 0.5 || done == total else { return }
        last = Date()
        let width = 30, filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write(Data(String(format: "\r[%@] %d/%d  %.1f tokens/s", bar, done, total,
                                                   seconds > 0 ? Double(tokens) / seconds : 0).utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}
