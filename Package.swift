// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "tailship",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tailship", targets: ["tailship"]),
        .library(name: "Tailship", targets: ["Tailship"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // Header-only system-library modules; each header holds the prefixed static-inline shims
        // for the variadic or macro APIs that Swift cannot import directly.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        // Linux system calls glibc declares only under _GNU_SOURCE (statx).
        .systemLibrary(name: "CLinux"),
        .target(
            name: "Tailship",
            dependencies: [
                "CCurl", "CZlib", "CDeflate", "CYAML", "CPCRE2", "CLinux",
                .product(name: "Logging", package: "swift-log"),
            ],
            // Full RELRO: every symbol bound at start, the GOT then read-only (a root daemon that
            // parses network input should not keep a writable table of function pointers).
            linkerSettings: [.unsafeFlags(["-Xlinker", "-z", "-Xlinker", "now"])]
        ),
        .executableTarget(
            name: "tailship",
            dependencies: [
                "Tailship",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Full RELRO: every symbol bound at start, the GOT then read-only (a root daemon that
            // parses network input should not keep a writable table of function pointers).
            linkerSettings: [.unsafeFlags(["-Xlinker", "-z", "-Xlinker", "now"])]
        ),
        .testTarget(name: "TailshipTests", dependencies: ["Tailship", "CZlib"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Tailship"]),
    ],
    swiftLanguageModes: [.v6]
)
