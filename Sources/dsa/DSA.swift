import ArgumentParser
import Kernels
import Logging

/// `dsa`: run DeepSeek-V3.2-Exp-style models on CPUs.
@main
struct DSA: ParsableCommand {
    /// Logs go to stderr, so stdout carries only results.
    static func main() {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        keepFreedMemory()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "dsa",
        abstract: "SwiftDSA: DeepSeek-V3.2-Exp (MLA + MoE + DeepSeek Sparse Attention) inference on CPUs.",
        subcommands: [Generate.self, Chat.self, Forward.self, Bench.self, Tokenize.self, Detokenize.self, MakeModel.self, Inspect.self, TopologyCommand.self]
    )
}
