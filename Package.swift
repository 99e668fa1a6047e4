// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-socketio",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "EngineIOCore", targets: ["EngineIOCore"]),
        .library(name: "EngineIOServer", targets: ["EngineIOServer"]),
        .library(name: "SocketIOCore", targets: ["SocketIOCore"]),
        .library(name: "SocketIOServer", targets: ["SocketIOServer"]),
        .executable(name: "socketio-conformance-server", targets: ["socketio-conformance-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
    ],
    targets: [
        .target(
            name: "EngineIOCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "EngineIOServer",
            dependencies: [
                "EngineIOCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SocketIOCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "SocketIOServer",
            dependencies: [
                "SocketIOCore",
                "EngineIOServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "socketio-conformance-server",
            dependencies: [
                "EngineIOServer",
                "SocketIOServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "EngineIOCoreTests",
            dependencies: ["EngineIOCore"]
        ),
        .testTarget(
            name: "EngineIOServerTests",
            dependencies: [
                "EngineIOServer",
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SocketIOCoreTests",
            dependencies: ["SocketIOCore"]
        ),
        .testTarget(
            name: "SocketIOServerTests",
            dependencies: ["SocketIOServer"]
        ),
    ]
)
