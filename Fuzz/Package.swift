// swift-tools-version:6.0
// libFuzzer targets for the decoders of swift-socketio, in a package of their own so that the main package's
// build and tests are untouched. Build and run them with `scripts/fuzz` (see docs/reliability.md).
import Foundation
import PackageDescription

// A path dependency's identity is the name of its folder, which differs between clones (CI clones elsewhere).
let parent = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let main = parent.lastPathComponent.lowercased()

func fuzzTarget(_ name: String, _ products: [String], nio: [String] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzDriver"] + products.map { .product(name: $0, package: main) }
            + nio.map { .product(name: $0, package: "swift-nio") }
    )
}

let package = Package(
    name: "swift-socketio-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
    ],
    targets: [
        .target(name: "FuzzDriver"),
        fuzzTarget("FuzzEngineIO", ["EngineIOCore"], nio: ["NIOCore"]),
        fuzzTarget("FuzzSocketIO", ["SocketIOCore"], nio: ["NIOCore"]),
        fuzzTarget("FuzzWebSocket", ["EngineIOServer"], nio: ["NIOCore", "NIOEmbedded", "NIOWebSocket"]),
        fuzzTarget("FuzzRedis", ["SocketIORedis", "SocketIOCore"], nio: ["NIOCore"]),
    ]
)
