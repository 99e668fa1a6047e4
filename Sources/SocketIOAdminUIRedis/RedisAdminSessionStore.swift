import NIOCore
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
///
/// On a Redis Cluster (the sharded adapter), `init(cluster:)` sends each key to the master of its slot.
public struct RedisAdminSessionStore: AdminSessionStore {
    /// The keys' prefix (`socket.io-admin`).
    public let prefix: String
    /// How long a session lasts, in seconds (one day).
    public let sessionDuration: Int
    /// Sends a command about a key.
    private let send: @Sendable (RedisCommand, String) -> EventLoopFuture<RESPValue>

    /// A store on `client` (a connection that does not subscribe).
    public init(client: RedisClient, prefix: String = "socket.io-admin", sessionDuration: Int = 86_400) {
        self.init(prefix: prefix, sessionDuration: sessionDuration) { command, _ in client.send(command) }
    }

    /// A store on a Redis Cluster.
    public init(cluster: RedisClusterClient, prefix: String = "socket.io-admin", sessionDuration: Int = 86_400) {
        self.init(prefix: prefix, sessionDuration: sessionDuration) { command, key in cluster.send(command, key: key) }
    }

    private init(prefix: String, sessionDuration: Int, send: @escaping @Sendable (RedisCommand, String) -> EventLoopFuture<RESPValue>) {
        self.prefix = prefix
        self.sessionDuration = sessionDuration
        self.send = send
    }

    /// The key of `sessionId`.
    public func key(_ sessionId: String) -> String { "\(self.prefix)#\(sessionId)" }

    public func sessionExists(_ sessionId: String) async throws -> Bool {
        let key = self.key(sessionId)
        return try await self.send(RedisCommand("EXISTS", key), key).get().int == 1
    }

    public func saveSession(_ sessionId: String) async throws {
        let key = self.key(sessionId)
        _ = try await self.send(RedisCommand("SET", key, "1", "EX", String(self.sessionDuration)), key).get()
    }
}

extension RedisAdminSessionStore {
    /// A store in the Redis of the Pub/Sub adapter (on its publishing connection).
    public init(sharing factory: RedisAdapterFactory) {
        self.init(client: factory.publisher)
    }

    /// A store in the Redis of the Streams adapter (on its commands connection); nil for a driver of your own.
    public init?(sharing factory: RedisStreamsAdapterFactory) {
        guard let driver = factory.driver as? RedisStreamsDriver else { return nil }
        self.init(client: driver.commands)
    }

    /// A store in the Redis (Cluster) of the sharded adapter; nil for a driver of your own.
    public init?(sharing factory: RedisShardedAdapterFactory) {
        if let driver = factory.driver as? RedisClusterPubSubDriver {
            self.init(cluster: driver.client)
        } else if let driver = factory.driver as? RedisShardedPubSubDriver {
            self.init(client: driver.publisher)
        } else {
            return nil
        }
    }
}
