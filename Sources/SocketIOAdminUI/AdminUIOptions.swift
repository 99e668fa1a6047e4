import Foundation
import NIOCore

/// The options of `AdminUI.instrument` (those of `@socket.io/admin-ui`'s `instrument`).
public struct AdminUIOptions: Sendable {
    /// How the page authenticates.
    public enum Authentication: Sendable {
        /// Anyone reaching the admin namespace manages the server: only for local use.
        case none
        /// The page sends `{username, password}` in the CONNECT auth; `passwordHash` is a bcrypt hash of the
        /// password (`$2a$`/`$2b$`/`$2y$`, as `bcrypt.hashSync(password, 10)` or `htpasswd -nbBC 10` make it).
        case basic(username: String, passwordHash: String)

        /// Basic authentication from an htpasswd line, `USER:BCRYPT_HASH` (as `htpasswd -nbB USER PASSWORD`
        /// prints it). Throws `AdminUIError.invalidPasswordHash` when there is no `:` or the hash is not bcrypt.
        public init(htpasswdEntry entry: String) throws(AdminUIError) {
            let line = entry.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else { throw .invalidHtpasswdEntry }
            let hash = String(line[line.index(after: colon)...])
            guard BCrypt.cost(of: hash) != nil else { throw .invalidPasswordHash }
            self = .basic(username: String(line[..<colon]), passwordHash: hash)
        }
    }

    /// How much the page is told.
    public enum Mode: Sendable {
        /// Every socket (`all_sockets`), connection, room change and event, as it happens.
        case development
        /// Only the statistics (`server_stats`): cheap enough for a busy server.
        case production
    }

    /// The admin namespace's name (`/admin`).
    public var namespaceName: String
    /// The authentication.
    public var auth: Authentication
    /// Whether the page may only look: no emit, join, leave or disconnect.
    public var readonly: Bool
    /// This node's id in the page's Servers view (the host name when nil).
    public var serverId: String?
    /// Development or production.
    public var mode: Mode
    /// Where the session ids given to authenticated pages are kept (in memory by default; share one, such
    /// as `RedisAdminSessionStore`, between the nodes of a cluster).
    public var store: any AdminSessionStore
    /// How often `server_stats` is sent (2 seconds, as the page expects).
    public var statsInterval: Duration

    /// Options; `auth` must be chosen explicitly, as with the official server.
    public init(
        namespaceName: String = "/admin",
        auth: Authentication,
        readonly: Bool = false,
        serverId: String? = nil,
        mode: Mode = .development,
        store: any AdminSessionStore = InMemoryAdminSessionStore(),
        statsInterval: Duration = .seconds(2)
    ) {
        self.namespaceName = namespaceName
        self.auth = auth
        self.readonly = readonly
        self.serverId = serverId
        self.mode = mode
        self.store = store
        self.statsInterval = statsInterval
    }
}

/// Why `AdminUI.instrument` refused its options.
public struct AdminUIError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    /// The `passwordHash` of basic authentication is not a bcrypt hash.
    public static let invalidPasswordHash = AdminUIError(description: "the `passwordHash` must be a valid bcrypt hash")

    /// An htpasswd entry that is not `USER:BCRYPT_HASH`.
    public static let invalidHtpasswdEntry = AdminUIError(description: "the credentials must read USER:BCRYPT_HASH (as `htpasswd -nbB USER PASSWORD` prints them)")
}
