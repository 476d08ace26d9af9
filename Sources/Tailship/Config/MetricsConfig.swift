#if canImport(Glibc)
    import Glibc
#endif

/// The opt-in `metrics:` section: where the Prometheus and health endpoint listens, and how
/// long a problem may last before `/healthz` reports it.
public struct MetricsConfig: Sendable, Equatable {
    /// An IP address literal (IPv4, or IPv6 in brackets) and a port, as written.
    public var listen: ListenAddress
    /// How long the shipper may retry or stay paused, a file stay stalled, or progress stay
    /// unsaved before `/healthz` answers 503 (and `tailship_file_stalled` turns 1). Default 5m.
    public var unhealthyAfterMs: Int

    public static let defaultUnhealthyAfterMs = 300_000

    public init(listen: ListenAddress, unhealthyAfterMs: Int = Self.defaultUnhealthyAfterMs) {
        self.listen = listen
        self.unhealthyAfterMs = unhealthyAfterMs
    }
}

/// `host:port` with the host an IP literal: no name is resolved (a daemon's listening address
/// must not depend on DNS), so `localhost` is refused and every address is the operator's own
/// explicit choice.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    public var isIPv6: Bool

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `127.0.0.1:9464` or `[::1]:9464`; the message says what is wrong otherwise.
    public static func parse(_ text: String) -> Result<ListenAddress, ListenAddressError> {
        let host: Substring
        let portText: Substring
        let isIPv6: Bool
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return .failure(ListenAddressError("expected '[IPv6]:port'"))
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            isIPv6 = true
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return .failure(ListenAddressError("expected 'host:port', e.g. 127.0.0.1:9464"))
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            isIPv6 = false
            if host.contains(":") {
                return .failure(ListenAddressError("an IPv6 address goes in brackets: '[::1]:9464'"))
            }
        }
        guard let port = UInt16(portText), port > 0 else {
            return .failure(ListenAddressError("the port must be a number from 1 to 65535, got '\(portText)'"))
        }
        guard IPLiteral.isValid(String(host), ipv6: isIPv6) else {
            return .failure(
                ListenAddressError(
                    "'\(host)' is not an IP\(isIPv6 ? "v6" : "v4") address (names such as localhost are not resolved)"))
        }
        return .success(ListenAddress(host: String(host), port: port, isIPv6: isIPv6))
    }
}

public struct ListenAddressError: Error, Sendable, Equatable {
    public var message: String
    init(_ message: String) { self.message = message }
}

/// IP address literals, checked by `inet_pton` (what `bind` will be given).
enum IPLiteral {
    static func isValid(_ host: String, ipv6: Bool) -> Bool {
        if ipv6 {
            var address = in6_addr()
            return inet_pton(AF_INET6, host, &address) == 1
        }
        var address = in_addr()
        return inet_pton(AF_INET, host, &address) == 1
    }
}
