import Foundation

/// A private CA and a server certificate for `127.0.0.1` signed by it, made with the `openssl`
/// CLI in a directory of the test's own (the same recipe as `Tests/ingest-server/test_transport.py`).
///
/// No certificate is checked in: they would expire, and a fresh CA per test also proves that
/// nothing but `ca_file` makes the agent trust it.
struct TestCertificates {
    /// The CA certificate (PEM): what `destination.ca_file` points at.
    let caFile: String
    /// The server certificate (PEM), signed by the CA, for `IP:127.0.0.1` unless told otherwise.
    let certificate: String
    /// The server certificate's private key (PEM).
    let key: String

    /// Why the certificates could not be made.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Creates the CA and the server certificate under `directory` (created if needed);
    /// `subjectAltName` is the name the certificate is for (another one tests host verification).
    static func make(in directory: String, subjectAltName: String = "IP:127.0.0.1") throws -> TestCertificates {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = { (name: String) in directory + "/" + name }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(
            ["req", "-x509"] + ec + [
                "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2", "-subj", "/CN=tailship test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        try openssl(
            ["req"] + ec + ["-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=127.0.0.1"])
        try """
        subjectAltName=\(subjectAltName)
        basicConstraints=CA:FALSE
        keyUsage=critical,digitalSignature,keyEncipherment
        extendedKeyUsage=serverAuth
        subjectKeyIdentifier=hash
        authorityKeyIdentifier=keyid

        """.write(toFile: path("server.ext"), atomically: true, encoding: .utf8)
        try openssl([
            "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-set_serial", "2", "-days", "2", "-out", path("server.pem"), "-extfile", path("server.ext"),
        ])
        return TestCertificates(caFile: path("ca.pem"), certificate: path("server.pem"), key: path("server.key"))
    }

    /// Runs `openssl` with `arguments`; its output is kept only to explain a failure.
    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 127 {
            throw Failure(description: "the openssl CLI is not installed (Debian package openssl): \(text)")
        }
        guard process.terminationStatus == 0 else {
            throw Failure(
                description: "openssl \(arguments.prefix(2).joined(separator: " ")) failed "
                    + "(\(process.terminationStatus)): \(text)")
        }
    }
}
