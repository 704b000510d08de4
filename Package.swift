// swift-tools-version:6.0
import PackageDescription

/// Generic types such as `Set<String>` made through metadata accessors, not looked up by mangled
/// name at run time: each such first look-up scans every protocol conformance of the binary, a
/// cost paid at the start of every command.
let directMetadata: [SwiftSetting] = [.unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"])]

let package = Package(
    name: "slirpmon",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "slirpmon", targets: ["slirpmon"]),
        .executable(name: "slirpmon-bench", targets: ["slirpmon-bench"]),
        .executable(name: "slirpmon-serve", targets: ["slirpmon-serve"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CNcursesW",
            pkgConfig: "ncursesw",
            providers: [.apt(["libncurses-dev"])]
        ),
        .target(name: "CSlirpSystem"),
        .target(name: "SlirpCore", dependencies: ["CSlirpSystem"], swiftSettings: directMetadata),
        .target(name: "SlirpTUI", dependencies: ["SlirpCore", "CNcursesW"]),
        // The Prometheus exposition (`slirpmon metrics`, `serve`): only what links it pays for swift-prometheus.
        .target(name: "SlirpMetrics", dependencies: ["SlirpCore", .product(name: "Prometheus", package: "swift-prometheus")]),
        .executableTarget(
            name: "slirpmon",
            dependencies: [
                "SlirpCore",
                "SlirpTUI",
                "SlirpMetrics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: directMetadata
        ),
        .executableTarget(name: "slirpmon-bench", dependencies: ["SlirpCore"]),
        // `slirpmon serve`'s HTTP server (SwiftNIO's HTTP/1.1), linked into no other command.
        .target(name: "SlirpServe", dependencies: [
            "SlirpMetrics", "SlirpCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .executableTarget(name: "slirpmon-serve", dependencies: ["SlirpServe", "SlirpMetrics", "SlirpCore"]),
        .testTarget(name: "SlirpServeTests", dependencies: ["SlirpServe", "SlirpCore", "SlirpTestSupport",
                                                            .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "SlirpCoreTests", dependencies: ["SlirpCore"]),
        .target(name: "SlirpTestSupport", dependencies: ["SlirpCore"], path: "Tests/SlirpTestSupport"),
        .testTarget(name: "SlirpIntegrationTests", dependencies: ["SlirpCore", "SlirpTestSupport", "CSlirpSystem"]),
        .testTarget(name: "SlirpmonCLITests", dependencies: ["slirpmon", "SlirpCore"]),
        .testTarget(name: "SlirpTUITests", dependencies: ["SlirpTUI", "SlirpCore", "SlirpTestSupport"], exclude: ["__Snapshots__"]),
    ],
    swiftLanguageModes: [.v6]
)
