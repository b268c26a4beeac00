// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "chatrelay",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ChatProtocol", targets: ["ChatProtocol"]),
        .library(name: "RedisClient", targets: ["RedisClient"]),
        .library(name: "RelayCore", targets: ["RelayCore"]),
        .library(name: "WebSocketWire", targets: ["WebSocketWire"]),
        .library(name: "ConnectionGuard", targets: ["ConnectionGuard"]),
        .library(name: "RelayServer", targets: ["RelayServer"]),
        .library(name: "ChatClient", targets: ["ChatClient"]),
        .library(name: "LoadGenerator", targets: ["LoadGenerator"]),
        .executable(name: "chatrelay", targets: ["chatrelay"]),
        .executable(name: "redis-client-bench", targets: ["RedisClientBenchmark"]),
        .executable(name: "websocket-echo", targets: ["WebSocketEcho"]),
        .executable(name: "chatrelay-fuzz", targets: ["ChatRelayFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // The tests make RSA keys for tokens an identity provider would sign (jwt-kit depends on it already).
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"6.0.0"),
    ],
    targets: [
        // The protocol layer: Debian's libhiredis-dev (0.14), found through pkg-config.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // A Redis client on SwiftNIO: pipelined connections, pub/sub, scripts, reconnect.
        .target(
            name: "RedisClient",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The contract's vocabulary shared by the relay and its clients: stream ids, error codes, message types, the
        // identifier rule, the delivered message's layout and a fast reader of its fields. No dependencies.
        .target(name: "ChatProtocol", swiftSettings: swiftSettings),
        // The relay: sessions, delivery, heartbeat, history, auth, limits. No HTTP in here.
        .target(
            name: "RelayCore",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                "ChatProtocol",
                "RedisClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // RFC 6455 on the server side, without the relay: frames read and written in place, the reader's state
        // machine with the close rules, the handshake, and how a connection ends.
        .target(
            name: "WebSocketWire",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP and WebSocket surface on Hummingbird.
        .target(
            name: "ConnectionGuard",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RelayServer",
            dependencies: [
                "ConnectionGuard",
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                "ChatProtocol",
                "RelayCore",
                "RedisClient",
                "WebSocketWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            // The browser client and the chat page, compiled into the binary: a node is still one file to deploy.
            resources: [
                .embedInCode("Web/index.html"), .embedInCode("Web/app.js"), .embedInCode("Web/style.css"),
                .embedInCode("Web/chatrelay.js"), .embedInCode("Web/chatrelay.d.ts"),
            ],
            swiftSettings: swiftSettings
        ),
        // A WebSocket client of the contract, shared by tests, `chatrelay bench` and the CLI.
        .target(
            name: "ChatClient",
            dependencies: [
                "ChatProtocol",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // `chatrelay bench`: pairs across nodes, rate or window mode, latency, loss, order; idle sockets.
        .target(
            name: "LoadGenerator",
            dependencies: ["ChatClient", "ChatProtocol", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "chatrelay",
            dependencies: [
                .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"), "RelayCore",
                "ChatProtocol",
                "RelayServer",
                "ChatClient",
                "LoadGenerator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings,
            // jemalloc (Debian's libjemalloc-dev) in place of glibc's malloc: 12 to 20% less CPU per message for a
            // saturated node, same memory per idle socket (measured with compare.py when adopted).
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
        ),
        .executableTarget(
            name: "RedisClientBenchmark",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), .product(name: "NIOCore", package: "swift-nio"), "RedisClient",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/RedisClientBenchmark",
            swiftSettings: swiftSettings
        ),
        // An echo server on WebSocketWire alone, for Autobahn|Testsuite (scripts/autobahn.sh); not part of the node.
        .executableTarget(
            name: "WebSocketEcho",
            dependencies: [
                "WebSocketWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Conformance/WebSocketEcho",
            swiftSettings: swiftSettings
        ),
        // Starts and stops real redis-server processes (and relay nodes) for the tests.
        .target(
            name: "FuzzHarnesses",
            dependencies: [
                "ChatProtocol", "ConnectionGuard", "RelayCore", "WebSocketWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ChatRelayFuzz",
            dependencies: ["FuzzHarnesses"],
            path: "Fuzz/ChatRelayFuzz",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"), "RedisClient",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), .product(name: "NIOCore", package: "swift-nio"), "RedisClient",
                "TestSupport", .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RelayCoreTests",
            dependencies: [
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"), "RedisClient", "RelayCore",
                "ChatProtocol", "TestSupport", .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WebSocketWireTests",
            dependencies: [
                "WebSocketWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ConnectionGuardTests",
            dependencies: [
                "ConnectionGuard",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FuzzRegressionTests",
            dependencies: ["FuzzHarnesses"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RelayServerTests",
            dependencies: [
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"), "RedisClient", "RelayCore", "ChatProtocol",
                "RelayServer", "ChatClient", "LoadGenerator", "TestSupport",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
