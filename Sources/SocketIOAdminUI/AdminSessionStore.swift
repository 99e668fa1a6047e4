import NIOConcurrencyHelpers

/// Keeps the session ids handed to pages that authenticated, so that a page reconnecting with
/// `auth: {sessionId}` is let in without its password.
public protocol AdminSessionStore: Sendable {
    /// Whether `sessionId` was saved (and has not expired).
    func sessionExists(_ sessionId: String) async throws -> Bool
    /// Saves `sessionId`.
    func saveSession(_ sessionId: String) async throws
}

/// Sessions in this process's memory (for one node, or sticky pages).
public final class InMemoryAdminSessionStore: AdminSessionStore {
    private let sessions = NIOLockedValueBox<Set<String>>([])

    public init() {}

    public func sessionExists(_ sessionId: String) async throws -> Bool {
        self.sessions.withLockedValue { $0.contains(sessionId) }
    }

    public func saveSession(_ sessionId: String) async throws {
        _ = self.sessions.withLockedValue { $0.insert(sessionId) }
    }
}
