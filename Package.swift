// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-socketio",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "EngineIOCore", targets: ["EngineIOCore"]),
        .library(name: "EngineIOServer", targets: ["EngineIOServer"]),
        .library(name: "SocketIOCore", targets: ["SocketIOCore"]),
        .library(name: "SocketIOAdapter", targets: ["SocketIOAdapter"]),
        .library(name: "SocketIOServer", targets: ["SocketIOServer"]),
        .library(name: "EngineIOClient", targets: ["EngineIOClient"]),
        .library(name: "SocketIOClient", targets: ["SocketIOClient"]),
        .library(name: "SocketIORedis", targets: ["SocketIORedis"]),
        .library(name: "SocketIOAdminUI", targets: ["SocketIOAdminUI"]),
        .library(name: "SocketIOAdminUIRedis", targets: ["SocketIOAdminUIRedis"]),
        .library(name: "SocketIOHummingbird", targets: ["SocketIOHummingbird"]),
        .library(name: "SocketIOVapor", targets: ["SocketIOVapor"]),
        .executable(name: "socketio-conformance-server", targets: ["socketio-conformance-server"]),
        .executable(name: "socketio-chat", targets: ["socketio-chat"]),
        .executable(name: "socketio-chat-hummingbird", targets: ["socketio-chat-hummingbird"]),
        .executable(name: "socketio-chat-vapor", targets: ["socketio-chat-vapor"]),
        .executable(name: "socketio-cli", targets: ["socketio-cli"]),
        .executable(name: "socketio-bench", targets: ["socketio-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.24.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        // `swift package generate-documentation` (the DocC catalogs; scripts/test builds them)
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
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
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .target(
            name: "SocketIOCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            // The adapter contract, below the server: what an adapter implements and what it may ask of its
            // namespace. Adapters (SocketIORedis) depend on this, not on the server.
            name: "SocketIOAdapter",
            dependencies: [
                "SocketIOCore",
                "EngineIOCore",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "SocketIOServer",
            dependencies: [
                "SocketIOCore",
                "SocketIOAdapter",
                "EngineIOServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            resources: [.copy("Resources/socket.io.js")]
        ),
        .target(
            name: "EngineIOClient",
            dependencies: [
                "EngineIOCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SocketIOClient",
            dependencies: [
                "SocketIOCore",
                "EngineIOClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SocketIORedis",
            dependencies: [
                "SocketIOAdapter",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SocketIOAdminUI",
            dependencies: [
                "SocketIOServer",
                "EngineIOServer",
                "EngineIOCore",
                "SocketIOCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "SocketIOAdminUIRedis",
            dependencies: ["SocketIOAdminUI", "SocketIORedis", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "SocketIOHummingbird",
            dependencies: [
                "SocketIOServer",
                "EngineIOServer",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SocketIOVapor",
            dependencies: [
                "SocketIOServer",
                "EngineIOServer",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "socketio-conformance-server",
            dependencies: [
                "EngineIOServer",
                "SocketIOServer",
                "SocketIORedis",
                "SocketIOAdminUI",
                "SocketIOAdminUIRedis",
                "SocketIOHummingbird",
                "SocketIOVapor",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "ChatExample",
            dependencies: [
                "SocketIOServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            resources: [.copy("Public")]
        ),
        .executableTarget(
            name: "socketio-chat-hummingbird",
            dependencies: [
                "ChatExample",
                "SocketIOHummingbird",
                "SocketIOServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "socketio-chat-vapor",
            dependencies: [
                "ChatExample",
                "SocketIOVapor",
                "SocketIOServer",
                .product(name: "Vapor", package: "vapor"),
            ]
        ),
        .executableTarget(
            name: "socketio-chat",
            dependencies: [
                "ChatExample",
                "SocketIOServer",
                .product(name: "NIOCore", package: "swift-nio"),
                "SocketIORedis",
                "SocketIOAdminUI",
                "SocketIOAdminUIRedis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "socketio-readme-examples",
            dependencies: [
                "SocketIOServer",
                "SocketIOClient",
                "SocketIOAdminUI",
                "EngineIOServer",
                "SocketIOHummingbird",
                "SocketIOVapor",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "socketio-cli",
            dependencies: [
                "SocketIOClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "socketio-bench",
            dependencies: [
                "EngineIOCore",
                "SocketIOCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
                .product(name: "HTTPTypes", package: "swift-http-types"),
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
        .testTarget(
            name: "SocketIOClientTests",
            dependencies: [
                "SocketIOClient", "EngineIOClient", "SocketIOServer",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "SocketIOAdminUITests",
            dependencies: ["SocketIOAdminUI", "SocketIOServer", "SocketIOClient"]
        ),
        .testTarget(
            name: "SocketIORedisTests",
            dependencies: ["SocketIORedis", "SocketIOServer", .product(name: "NIOEmbedded", package: "swift-nio")]
        ),
    ]
)
