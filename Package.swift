// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "slirpmon",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "slirpmon", targets: ["slirpmon"]),
        .library(name: "SlirpCore", targets: ["SlirpCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CNcursesW",
            pkgConfig: "ncursesw",
            providers: [.apt(["libncurses-dev"])]
        ),
        .target(name: "CSlirpSystem"),
        .target(name: "SlirpCore", dependencies: ["CSlirpSystem"]),
        .target(name: "SlirpTUI", dependencies: ["SlirpCore", "CNcursesW"]),
        .executableTarget(
            name: "slirpmon",
            dependencies: [
                "SlirpCore",
                "SlirpTUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SlirpCoreTests", dependencies: ["SlirpCore"]),
        .testTarget(name: "SlirpIntegrationTests", dependencies: ["SlirpCore"]),
        .testTarget(name: "SlirpTUITests", dependencies: ["SlirpTUI", "SlirpCore"], exclude: ["__Snapshots__"]),
    ],
    swiftLanguageModes: [.v6]
)
