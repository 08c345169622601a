// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// Kernels are compiled for the build machine's vector units: AVX-512 or AVX2 (+FMA, F16C) when
/// /proc/cpuinfo shows them, the portable baseline otherwise. `DSA_TARGET_CPU=x86-64` (or any
/// LLVM CPU name) overrides the choice, e.g. to build for a different cluster node.
func kernelTargetCPU() -> String? {
    if let forced = ProcessInfo.processInfo.environment["DSA_TARGET_CPU"] { return forced }
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return nil }
    let flags = Set(flagsLine.split(separator: " ").map(String.init))
    if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "fma", "f16c"]) { return "skylake-avx512" }
    if flags.isSuperset(of: ["avx2", "fma", "f16c"]) { return "haswell" }
    return nil
}

/// CPUs with AVX-512's 32 vector registers, for which the prefill kernels use larger register tiles.
let wideVectorCPUs: Set<String> = ["skylake-avx512", "cascadelake", "cooperlake", "icelake-client", "icelake-server", "tigerlake",
                                   "rocketlake", "sapphirerapids", "emeraldrapids", "graniterapids", "znver4", "znver5"]

let cpuFlags: [SwiftSetting] = kernelTargetCPU().map {
    [.unsafeFlags(["-target-cpu", $0])] + (wideVectorCPUs.contains($0) ? [.define("WIDE_VECTORS")] : [])
} ?? []

let package = Package(
    name: "SwiftDSA",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dsa", targets: ["dsa"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .target(name: "CNUMA", linkerSettings: [.linkedLibrary("numa")]),
        .target(name: "CPrefetch"),
        .target(name: "Kernels", dependencies: ["CNUMA", "CPrefetch"], swiftSettings: cpuFlags + [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(
            name: "CMPI",
            cSettings: [.unsafeFlags(["-I/usr/lib/x86_64-linux-gnu/openmpi/include", "-I/usr/include/x86_64-linux-gnu/mpi"])],
            linkerSettings: [.linkedLibrary("mpi")]
        ),
        .target(name: "Cluster", dependencies: ["CMPI", "Kernels"]),
        .target(name: "Tokenizer", resources: [.copy("Resources/deepseek-v3")]),
        .target(name: "DeepSeek", dependencies: ["Kernels"]),
        .target(name: "Engine", dependencies: ["DeepSeek", "Kernels"]),
        .executableTarget(
            name: "dsa",
            dependencies: [
                "DeepSeek", "Kernels", "Cluster", "Engine", "Tokenizer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Kernels"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "DeepSeek", "Kernels"]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer"], resources: [.copy("Resources")]),
        .testTarget(name: "DeepSeekTests", dependencies: ["DeepSeek", "Kernels"], resources: [.copy("Resources/tiny-public")]),
    ]
)
