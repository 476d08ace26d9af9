/// The optional `metrics:` section (docs/configuration.md).
extension ConfigDecoder {
    static let metricsKeys = ["listen", "unhealthy_after"]

    mutating func decodeMetrics(_ node: YAMLNode) -> MetricsConfig? {
        guard let fields = fields(of: node, for: "'metrics'", known: Self.metricsKeys) else { return nil }
        var unhealthyAfter = MetricsConfig.defaultUnhealthyAfterMs
        if let value = fields["unhealthy_after"], let parsed = duration(value, key: "unhealthy_after") {
            unhealthyAfter = parsed.value
        }
        guard let node = required("listen", in: fields, reason: "the address to serve /metrics and /healthz on"),
            let text = nonEmptyString(node, key: "listen")
        else { return nil }
        switch ListenAddress.parse(text.value) {
        case .success(let address):
            return MetricsConfig(listen: address, unhealthyAfterMs: unhealthyAfter)
        case .failure(let error):
            report(text.mark, "invalid 'listen' address '\(text.value)': \(error.message)")
            return nil
        }
    }
}
