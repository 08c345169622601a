import ArgumentParser
import Engine

/// Sampling flags shared by `generate` and `chat`; a batch file's fields override them per line.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Tokens to generate at most.")
    var maxTokens: Int = 256

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(help: "Keep the k most likely tokens (0: all).")
    var topK: Int = 0

    @Option(help: "Nucleus sampling: keep tokens up to this probability mass, in (0, 1].")
    var topP: Float = 1

    @Option(help: "Drop tokens less likely than this fraction of the most likely one.")
    var minP: Float = 0

    @Option(help: "Penalty > 1 for tokens already in the prompt or output.")
    var repetitionPenalty: Float = 1

    @Option(help: "Subtracted from logits of tokens already generated.")
    var presencePenalty: Float = 0

    @Option(help: "Subtracted per earlier occurrence in the output.")
    var frequencyPenalty: Float = 0

    @Option(help: "Stop at this text (repeatable).")
    var stop: [String] = []

    @Option(help: "Stop at this token id (repeatable).")
    var stopTokenId: [Int] = []

    @Option(help: "Random seed: the same seed gives the same text on any number of ranks.")
    var seed: UInt64 = 0

    @Flag(help: "Keep generating after the end-of-sequence token.")
    var ignoreEos = false

    var params: SamplingParams {
        var p = SamplingParams()
        p.maxTokens = maxTokens; p.temperature = temperature; p.topK = topK; p.topP = topP; p.minP = minP
        p.repetitionPenalty = repetitionPenalty; p.presencePenalty = presencePenalty; p.frequencyPenalty = frequencyPenalty
        p.stop = stop; p.stopTokenIds = stopTokenId; p.seed = seed; p.ignoreEos = ignoreEos
        return p
    }

    func validate() throws {
        do { try params.validate() } catch { throw ValidationError(error.description) }
    }
}
