import ArgumentParser

/// `dsa`: run DeepSeek-V3.2-Exp-style models on CPUs.
@main
struct DSA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dsa",
        abstract: "SwiftDSA: DeepSeek-V3.2-Exp (MLA + MoE + DeepSeek Sparse Attention) inference on CPUs.",
        subcommands: [Generate.self, Forward.self, MakeModel.self, Inspect.self]
    )
}
