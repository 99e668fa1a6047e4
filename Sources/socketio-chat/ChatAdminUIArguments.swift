import ArgumentParser
import EngineIOServer
import SocketIOAdminUI
import SocketIOAdminUIRedis
import SocketIOServer

/// `--admin-ui` and its options: the official Socket.IO Admin UI (https://admin.socket.io, or its `ui/dist`
/// served by you) watching and managing the chat.
///
/// The chat's own admin page keeps the `/admin` namespace, so the Admin UI's namespace is `/admin-ui` here
/// (type it in the page's "Advanced options", field "Admin namespace").
struct ChatAdminUIArguments: ParsableArguments {
    /// The namespace of the chat's own admin page (the Admin UI may not take it).
    static let chatAdminNamespace = "/admin"
    /// The hosted page's origin, always allowed with credentials when the Admin UI is on.
    static let hostedPageOrigin = "https://admin.socket.io"

    @Flag(name: .customLong("admin-ui"), help: "Let the official Socket.IO Admin UI (https://admin.socket.io) watch and manage the chat (development mode: every socket, room and event).")
    var enabled = false

    @Option(name: .customLong("admin-ui-namespace"), help: "The Admin UI's namespace (the chat's own admin page has /admin).")
    var namespace = "/admin-ui"

    @Option(name: .customLong("admin-ui-auth"), help: "The Admin UI's username and bcrypt password hash, USER:BCRYPT_HASH (as `htpasswd -nbB USER PASSWORD` or --bcrypt-hash make it); implies --admin-ui. Without it, no authentication.")
    var auth: String?

    @Option(name: .customLong("admin-ui-origin"), help: "Also allow this origin with credentials (a self-served ui/dist, such as http://localhost:8080); https://admin.socket.io always is. Repeatable.")
    var origins: [String] = []

    @Flag(name: .customLong("admin-ui-readonly"), help: "The Admin UI may only look: no emit, join, leave or disconnect.")
    var readonly = false

    @Flag(name: .customLong("admin-ui-production"), help: "Production mode: the Admin UI gets the statistics only.")
    var production = false

    @Option(name: .customLong("admin-ui-server-id"), help: "This node's name in the Admin UI's Servers view (the host name by default; give each node of a cluster its own).")
    var serverId: String?

    @Option(name: .customLong("bcrypt-hash"), help: "Print a bcrypt hash ($2b$, cost 10) of this password, for --admin-ui-auth, and exit.")
    var bcryptHash: String?

    /// Whether the Admin UI is on.
    var isOn: Bool { self.enabled || self.auth != nil }

    mutating func validate() throws {
        guard self.isOn else { return }
        guard self.namespace.hasPrefix("/"), self.namespace != "/" else {
            throw ValidationError("--admin-ui-namespace must be a namespace of its own, such as /admin-ui")
        }
        guard self.namespace != Self.chatAdminNamespace else {
            throw ValidationError("the chat's own admin page uses \(Self.chatAdminNamespace): give the Admin UI another --admin-ui-namespace")
        }
        if let auth { _ = try Self.authentication(auth) }
    }

    /// The CORS policy the page needs (nil when the Admin UI is off: the chat's pages are same-origin).
    var cors: CORSConfiguration? {
        guard self.isOn else { return nil }
        return CORSConfiguration(origin: .list([Self.hostedPageOrigin] + self.origins), credentials: true)
    }

    /// Instruments `io` when the Admin UI is on (after the chat's own namespaces exist, before listening).
    func instrument(_ io: SocketIO, sessions: RedisAdminSessionStore?) throws {
        guard self.isOn else { return }
        var options = AdminUIOptions(
            namespaceName: self.namespace,
            auth: try self.auth.map(Self.authentication) ?? .none,
            readonly: self.readonly,
            serverId: self.serverId,
            mode: self.production ? .production : .development
        )
        // in a cluster, a page that reconnects to another node keeps its session
        if let sessions { options.store = sessions }
        try AdminUI.instrument(io, options)
    }

    private static func authentication(_ entry: String) throws -> AdminUIOptions.Authentication {
        do {
            return try AdminUIOptions.Authentication(htpasswdEntry: entry)
        } catch {
            throw ValidationError("--admin-ui-auth: \(error)")
        }
    }
}
