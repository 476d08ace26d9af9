#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension AgentPlan {
    /// Whether a reload from `running` to this plan changes nothing but the credentials (a
    /// rotated `secret_file`, another `secret_env`, a new service account or `project_id`), so
    /// the running shipper can take them (`Shipper.update(credentials:)`) instead of the whole
    /// pipeline being rebuilt. Anything else, the content of `ca_file` included (a CA rotated
    /// with the secret needs new connections), makes it a full reload.
    func changesOnlyCredentials(from running: AgentPlan) -> Bool {
        guard credentials != running.credentials else { return false }
        return running.withoutCredentials == withoutCredentials && caFileDigest == running.caFileDigest
    }

    /// The configuration as text with the credential settings blanked, and the YAML positions
    /// values were read at left out (every position is a `mark`, shown `LINE:COLUMN`): an `auth` block written on more lines moves every later
    /// position without changing what the configuration says.
    private var withoutCredentials: String {
        var config = self.config
        config.destination.auth = nil
        config.destination.projectId = nil
        return String(reflecting: config).replacing(/mark: \d+:\d+/, with: "mark: _")
    }
}
