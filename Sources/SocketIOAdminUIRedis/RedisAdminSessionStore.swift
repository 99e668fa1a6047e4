import SocketIOAdminUI
import SocketIORedis

/// Admin UI sessions in Redis, under the official server's keys (`socket.io-admin#<sessionId>`, `SET key 1
/// EX duration`, `EXISTS key`): a page that reconnects to any node of the cluster, Swift or Node.js, is
/// recognised.
///
/// ```swift
/// let redis = RedisAdapterFactory(url: "redis://127.0.0.1:6379")
/// try AdminUI.instrument(io, AdminUIOptions(auth: .basic(username: "admin", passwordHash: hash),
///                                           store: RedisAdminSessionStore(client: redis.publisher)))
/// ```
public struct RedisAdminSessionStore: AdminSessionStore {
    /// The client the commands go through (a connection that does not subscribe).
    public let client: RedisClient
    /// The keys' prefix (`socket.io-admin`).
    public let prefix: String
    /// How long a session lasts, in seconds (one day).
    public let sessionDuration: Int

    /// A store on `client`.
    public init(client: RedisClient, prefix: String = "socket.io-admin", sessionDuration: Int = 86_400) {
        self.client = client
        self.prefix = prefix
        self.sessionDuration = sessionDuration
    }

    /// The key of `sessionId`.
    public func key(_ sessionId: String) -> String { "\(self.prefix)#\(sessionId)" }

    public func sessionExists(_ sessionId: String) async throws -> Bool {
        try await self.client.send(RedisCommand("EXISTS", self.key(sessionId))).get().int == 1
    }

    public func saveSession(_ sessionId: String) async throws {
        _ = try await self.client.send(RedisCommand("SET", self.key(sessionId), "1", "EX", String(self.sessionDuration))).get()
    }
}
