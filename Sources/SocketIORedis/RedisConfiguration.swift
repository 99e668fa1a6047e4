import NIOCore

/// Where and how to connect to Redis: `redis://[[user]:password@]host[:port][/db]`, plus timeouts, the
/// reconnection backoff and memory bounds.
public struct RedisConfiguration: Sendable, Hashable {
    /// Host name or address.
    public var host: String
    /// TCP port (default 6379).
    public var port: Int
    /// ACL user name (Redis 6+), sent with the password in `AUTH`.
    public var username: String?
    /// Password, sent with `AUTH` right after connecting.
    public var password: String?
    /// Database selected with `SELECT` (default 0).
    public var database: Int
    /// How long a TCP connect may take.
    public var connectTimeout: Duration
    /// First reconnection delay; doubled on each failure up to `maxReconnectDelay`.
    public var initialReconnectDelay: Duration
    /// Longest reconnection delay.
    public var maxReconnectDelay: Duration
    /// The most commands waiting for replies on one connection; more fail with
    /// `RedisError.tooManyPendingCommands` (nothing is queued while disconnected).
    public var maxPendingCommands: Int
    /// Bounds of the RESP parser.
    public var parserLimits: RESPParser.Limits

    /// A configuration for `host:port`.
    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        connectTimeout: Duration = .seconds(5),
        initialReconnectDelay: Duration = .milliseconds(100),
        maxReconnectDelay: Duration = .seconds(5),
        maxPendingCommands: Int = 10_000,
        parserLimits: RESPParser.Limits = RESPParser.Limits()
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.initialReconnectDelay = initialReconnectDelay
        self.maxReconnectDelay = maxReconnectDelay
        self.maxPendingCommands = maxPendingCommands
        self.parserLimits = parserLimits
    }

    /// Parses `redis://[[user]:password@]host[:port][/db]` (percent-encoded user and password; IPv6 hosts
    /// in brackets).
    public init(url: String) throws(RedisError) {
        self.init()
        guard url.hasPrefix("redis://") else { throw .invalidURL("expected redis://, got \(url.prefix(16))") }
        var rest = Substring(url.dropFirst("redis://".count))
        if let query = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<query] }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = try Self.percentDecoded(credentials[..<colon])
                self.username = user.isEmpty ? nil : user
                self.password = try Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else if !credentials.isEmpty {
                // `redis://password@host` (the redis-cli form).
                self.password = try Self.percentDecoded(credentials)
            }
        }
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .invalidURL("unterminated IPv6 address") }
            self.host = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()) else { throw .invalidURL("bad port") }
                self.port = port
            }
        } else if let colon = rest.lastIndex(of: ":") {
            self.host = String(rest[..<colon])
            guard let port = Int(rest[rest.index(after: colon)...]) else { throw .invalidURL("bad port") }
            self.port = port
        } else {
            self.host = String(rest)
        }
        guard !self.host.isEmpty else { throw .invalidURL("missing host") }
        guard (1...65535).contains(self.port) else { throw .invalidURL("port out of range") }
        if !path.isEmpty {
            guard let database = Int(path), database >= 0 else { throw .invalidURL("bad database number \(path.prefix(16))") }
            self.database = database
        }
    }

    private static func percentDecoded(_ text: Substring) throws(RedisError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { throw .invalidURL("bad percent escape") }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
