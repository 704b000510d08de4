// swift-tools-version:6.0
import PackageDescription

/// Generic types such as `Set<String>` made through metadata accessors, not looked up by mangled
/// name at run time: each such first look-up scanned all 5,900 protocol conformances of the binary
/// (13 scans, 3.8 M instructions, ~1 ms of every `slirpmon list`; 3 scans with this).
let directMetadata: [SwiftSetting] = [.unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"])]

let package = Package(
    name: "slirpmon",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "slirpmon", targets: ["slirpmon"]),
        .executable(name: "slirpmon-bench", targets: ["slirpmon-bench"]),
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
        .target(name: "SlirpCore", dependencies: ["CSlirpSystem"], swiftSettings: directMetadata),
        .target(name: "SlirpTUI", dependencies: ["SlirpCore", "CNcursesW"]),
        .executableTarget(
            name: "slirpmon",
            dependencies: [
                "SlirpCore",
                "SlirpTUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: directMetadata,
            // The release binary is one static, position-dependent executable: nothing is loaded
            // or relocated at start. A PIE made 79,500 relocations (~0.7 ms, 170 page faults) and
            // loading libstdc++, ncurses and libm another ~1.2 ms of every `slirpmon list` (perf
            // stat, 2-core VM). It takes no NSS module in (see `UserNames`).
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(configuration: .release))]
        ),
        .executableTarget(name: "slirpmon-bench", dependencies: ["SlirpCore"]),
        .testTarget(name: "SlirpCoreTests", dependencies: ["SlirpCore"]),
        .target(name: "SlirpTestSupport", dependencies: ["SlirpCore"], path: "Tests/SlirpTestSupport"),
        .testTarget(name: "SlirpIntegrationTests", dependencies: ["SlirpCore", "SlirpTestSupport"]),
        .testTarget(name: "SlirpmonCLITests", dependencies: ["slirpmon"]),
        .testTarget(name: "SlirpTUITests", dependencies: ["SlirpTUI", "SlirpCore", "SlirpTestSupport"], exclude: ["__Snapshots__"]),
    ],
    swiftLanguageModes: [.v6]
)
