/// Turns the configuration's secret sources into the credentials the shipper sends.
extension ShipCredentials {
    /// Basic auth per Mixpanel's Ingestion API docs: a service account is `username:secret` plus
    /// `project_id`; without a username the secret (a project secret or token) is the user
    /// name with an empty password, and no `project_id`.
    public static func resolve(_ destination: DestinationConfig, environment: [String: String]) throws
        -> ShipCredentials
    {
        guard destination.kind == .mixpanel else { return ShipCredentials() }
        var credentials = ShipCredentials()
        if let auth = destination.auth {
            let secret = try SecretResolver.resolve(auth.secret, environment: environment)
            if let username = auth.username {
                credentials.basicUser = username
                credentials.basicPassword = secret
                credentials.projectId = destination.projectId
            } else {
                credentials.basicUser = secret
                credentials.basicPassword = ""
            }
        }
        if let token = destination.token {
            credentials.token = try SecretResolver.resolve(token, environment: environment)
        }
        return credentials
    }
}
