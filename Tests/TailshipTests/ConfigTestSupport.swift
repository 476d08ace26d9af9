@testable import Tailship

/// The PRODUCT.md example configuration, verbatim.
let productExampleConfig = #"""
    state_dir: /var/lib/tailship        # checkpoints and dead letters live here

    destination:
      kind: mixpanel                    # mixpanel (default) | stdout | file
      api: import                       # import (default) | track
      url: https://api.mixpanel.com     # base URL; EU and IN residency hosts work the same way
      project_id: "3141592"
      auth:
        username: my-sa.123.mp-service-account   # service-account user; omit to use a project secret
        secret_env: MIXPANEL_SECRET              # or secret_file: /etc/tailship/secret
      token_env: MIXPANEL_TOKEN         # project token, for api: track
      path: /var/lib/tailship/events.ndjson  # for kind: file
      gzip: true
      max_in_flight: 4                  # concurrent requests
      ca_file: /etc/ssl/private-ca.pem  # optional; TLS verification is always on
      batch:
        max_events: 2000
        max_bytes: 2097152
        flush_interval: 1s
      timeout: 30s
      retry:
        initial_backoff: 2s             # doubles per failure, plus 1-5 s of jitter
        max_backoff: 60s

    sources:
      - name: app
        paths: ["/var/log/myapp/*.log"]   # globs; files that appear later are picked up
        exclude: ["*.gz"]
        start_at: end                     # end (default) | beginning, for files first seen
        timezone: UTC                     # for times without an offset
        max_line_bytes: 1MiB
        format: regex                     # regex (default) | json | logfmt | nginx_combined | apache_combined | syslog
        rules:                            # in order; the first rule that matches a line wins
          - name: purchase
            match: '^(?<ts>\S+) INFO user=(?<user>\S+) action=purchase amount=(?<amount>[\d.]+)'
            where: { plan: '^(pro|team)$' }          # optional: field -> regex that its value must match
            event: "Purchase Completed"               # a template
            distinct_id: "{{user}}"
            time: { field: ts, format: iso8601 }      # iso8601 | unix | unix_ms | a strptime format
            insert_id: "{{request_id}}"               # optional; see Delivery
            ip: "{{client_ip}}"                        # optional; without it tailship sends ip "0" (no geolocation to the agent's host)
            properties:
              amount: { value: "{{amount}}", type: float }   # string (default) | int | float | bool
              plan: "{{plan}}"
              channel: web                             # a literal
          - name: noise
            match: 'healthcheck'
            drop: true                                 # matched, produces nothing

    """#

/// Every problem of `text` as `FILE:LINE:COLUMN: message`; empty when it decodes.
func configProblems(_ text: String, environment: [String: String] = ["MIXPANEL_SECRET": "s3cr3t"]) -> [String] {
    do {
        _ = try ConfigLoader.parse(text: text, file: "agent.yaml", environment: environment)
        return []
    } catch {
        return error.problems.map(\.description)
    }
}

/// A valid minimal configuration with `extra` appended to the first rule (indented for it).
let minimalConfig = """
    destination:
      auth:
        secret_env: MIXPANEL_SECRET
    sources:
      - name: app
        paths: /var/log/app.log
        rules:
          - name: r
            match: 'x'
            event: E
            distinct_id: "{{u}}"
            time: { field: ts, format: unix }

    """
