import ArgumentParser
import Foundation
import Logging
import Tokenizer

/// `dsa tokenize`: text to token ids, as JSON.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the token ids of a text as JSON.")

    @Option(help: "Model directory with tokenizer.json (default: the embedded default model).")
    var model: String?

    @Option(help: "Text to encode.")
    var text: String?

    @Option(help: "File to encode (with --jsonl: one {\"text\": …} object per line).")
    var file: String?

    @Flag(help: "Read JSON lines {\"text\": …} and print one id list per line.")
    var jsonl = false

    func validate() throws {
        guard (text == nil) != (file == nil) else { throw ValidationError("give exactly one of --text or --file") }
        if jsonl && file == nil { throw ValidationError("--jsonl reads --file") }
    }

    func run() throws {
        let tokenizer = try TextCodec(directory: model ?? DefaultModel.directory()).require()
        if let text { return print(jsonList(tokenizer.encode(text))) }
        guard let data = FileManager.default.contents(atPath: file!), let content = String(data: data, encoding: .utf8) else {
            throw ValidationError("cannot read \(file!) as UTF-8 text")
        }
        guard jsonl else { return print(jsonList(tokenizer.encode(content))) }
        let lines = content.split(separator: "\n", omittingEmptySubsequences: true)
        struct Line: Decodable { let text: String }  // (JSONSerialization drops a leading U+FEFF from strings)
        let texts = try lines.enumerated().map { i, line -> String in
            guard let decoded = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)) else {
                throw ValidationError("\(file!) line \(i + 1): expected a JSON object with a string field \"text\"")
            }
            return decoded.text
        }
        let start = Date()
        let encoded = tokenizer.encodeBatch(texts)
        let seconds = Date().timeIntervalSince(start), megabytes = Double(texts.reduce(0) { $0 + $1.utf8.count }) / 1e6
        Logger(label: "dsa.tokenize").info("encoded \(texts.count) texts", metadata: [
            "mb": "\(String(format: "%.3f", megabytes))", "encode_s": "\(String(format: "%.3f", seconds))",
            "mb_per_s": "\(String(format: "%.2f", megabytes / seconds))"])
        for ids in encoded { print(jsonList(ids)) }
    }
}

/// `dsa detokenize`: token ids to text.
struct Detokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the text of token ids (comma-separated or a JSON list).")

    @Option(help: "Model directory with tokenizer.json (default: the embedded default model).")
    var model: String?

    @Option(help: "Token ids: 1,2,3 or [1, 2, 3].")
    var ids: String

    @Flag(help: "Leave out special tokens.")
    var skipSpecial = false

    func run() throws {
        let tokenizer = try TextCodec(directory: model ?? DefaultModel.directory()).require()
        let list = try parseTokens(ids.trimmingCharacters(in: CharacterSet(charactersIn: "[] \n")))
        print(try tokenizer.decode(list, skipSpecial: skipSpecial))
    }
}

func jsonList(_ ids: [Int]) -> String { "[" + ids.map(String.init).joined(separator: ", ") + "]" }
