import Vapor

/// The application's user (`vapor-signed-in`).
struct FixtureUser: Authenticatable, Sendable {
    let name: String
}
