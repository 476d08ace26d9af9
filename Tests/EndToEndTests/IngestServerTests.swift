import Foundation
import Testing

/// Proves the `IngestServer` harness: start, post a batch, read it back, inject faults.
@Suite struct IngestServerTests {
    private func event(_ i: Int, _ name: String = "login") -> [String: Any] {
        [
            "event": name,
            "properties": [
                "time": 1_700_000_000_000 + i, "distinct_id": "user-\(i)",
                "$insert_id": "id-\(i)", "ip": "0", "plan": "free",
            ] as [String: Any],
        ]
    }

    @Test func importedBatchIsReadBack() throws {
        let server = try IngestServer()
        defer { server.stop() }
        #expect(server.port > 0)

        let response = try server.post(
            server.importPath, json: [event(1), event(2)],
            headers: ["Authorization": server.serviceAccountAuthorization])
        #expect(response.status == 200)
        let answer = try response.json() as? [String: Any]
        #expect(answer?["num_records_imported"] as? Int == 2)
        #expect(answer?["status"] as? String == "OK")

        let stored = try server.storedEvents()
        #expect(stored.map(\.insertID) == ["id-1", "id-2"])
        #expect(stored.first?.timeMs == 1_700_000_000_001)
        #expect(stored.first?.ip == "0")
        #expect(stored.first?.usedRequestIP == false)
        #expect(stored.first?.properties["plan"] as? String == "free")
        #expect(stored.first?.properties["ip"] == nil)
        #expect(try server.stats()["events_accepted"] as? Int == 2)
    }

    @Test func faultsAndDedupAreVisible() throws {
        let server = try IngestServer(arguments: ["--token", "harness-token"])
        defer { server.stop() }
        #expect(server.token == "harness-token")
        try server.inject([["status": 429, "retry_after": 1]])

        let headers = ["Authorization": server.tokenAuthorization]
        let limited = try server.post("/import?strict=1", json: [event(1)], headers: headers)
        #expect(limited.status == 429)
        #expect(limited.headers["retry-after"] == "1")
        #expect(try server.events().isEmpty)

        for _ in 0..<2 {
            #expect(try server.post("/import?strict=1", json: [event(1)], headers: headers).status == 200)
        }
        #expect(try server.events().count == 2)
        #expect(try server.events(dedup: true).count == 1)
        let byStatus = try server.stats()["requests_by_status"] as? [String: Any]
        #expect(byStatus?["429"] as? Int == 1)
        #expect(byStatus?["200"] as? Int == 2)

        try server.setConfig(["outage": true])
        #expect(try server.post("/import?strict=1", json: [event(3)], headers: headers).status == 503)
        try server.reset()
        #expect(try server.requests().isEmpty)
    }
}
