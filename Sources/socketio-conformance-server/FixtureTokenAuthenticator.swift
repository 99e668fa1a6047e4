import Vapor

/// The application's authentication (`vapor-signed-in`): bearer token `alice-token` is user alice.
struct FixtureTokenAuthenticator: AsyncBearerAuthenticator {
    func authenticate(bearer: BearerAuthorization, for request: Request) async throws {
        if bearer.token == "alice-token" { request.auth.login(FixtureUser(name: "alice")) }
    }
}
