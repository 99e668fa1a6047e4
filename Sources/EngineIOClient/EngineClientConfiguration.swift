import EngineIOCore
import NIOCore
import NIOHTTP1
import NIOSSL

/// The TLS settings of `https`/`wss` connections (swift-nio-ssl's `TLSConfiguration`).
public typealias ClientTLSConfiguration = TLSConfiguration

/// Where and how an ``EngineClient`` connects.
public struct EngineClientConfiguration: Sendable {
    /// Whether the connection uses TLS (`https`/`wss`).
    public var secure: Bool
    /// The server's host name or address.
    public var host: String
    /// The server's port.
    public var port: Int
    /// The Engine.IO path, ending in `/` (default `/socket.io/`).
    public var path: String
    /// Extra query parameters sent with every request, in order.
    public var query: [(name: String, value: String)]
    /// Extra HTTP headers sent with every request (polling) and with the WebSocket upgrade request.
    public var extraHeaders: [(name: String, value: String)]
    /// The transports to use, in order of preference: the first opens the session; with `[.polling, .websocket]`
    /// the client starts with polling and upgrades to WebSocket when the server offers it.
    public var transports: [EngineTransport]
    /// Whether a polling session tries to upgrade to WebSocket.
    public var upgrade: Bool
    /// The TLS configuration for `https`/`wss` (default: `TLSConfiguration.makeClientConfiguration()`).
    public var tlsConfiguration: TLSConfiguration?
    /// How long establishing a TCP connection may take.
    public var connectTimeout: Duration
    /// The largest WebSocket message accepted from the server (at least 1 MB, the server's default payload).
    public var maxFrameSize: Int

    /// Creates a configuration.
    public init(
        secure: Bool = false,
        host: String,
        port: Int,
        path: String = "/socket.io/",
        query: [(name: String, value: String)] = [],
        extraHeaders: [(name: String, value: String)] = [],
        transports: [EngineTransport] = [.polling, .websocket],
        upgrade: Bool = true,
        tlsConfiguration: TLSConfiguration? = nil,
        connectTimeout: Duration = .seconds(10),
        maxFrameSize: Int = 16 << 20
    ) {
        self.secure = secure
        self.host = host
        self.port = port
        self.path = EngineClientConfiguration.normalize(path: path)
        self.query = query
        self.extraHeaders = extraHeaders
        self.transports = transports
        self.upgrade = upgrade
        self.tlsConfiguration = tlsConfiguration
        self.connectTimeout = connectTimeout
        self.maxFrameSize = max(maxFrameSize, 1 << 20)
    }

    /// Reads `http://`, `https://`, `ws://` or `wss://` URLs: scheme, host, port and query (the URL's path is
    /// the Socket.IO namespace, not the Engine.IO path, and is returned separately).
    public static func parse(url: String) throws(EngineClientError) -> (configuration: EngineClientConfiguration, urlPath: String) {
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else { throw .invalidURL(url) }
        let scheme = url[..<colon].lowercased()
        let secure: Bool
        switch scheme {
        case "http", "ws": secure = false
        case "https", "wss": secure = true
        default: throw .invalidURL(url)
        }
        var rest = url[url.index(colon, offsetBy: 3)...]
        var query: [(name: String, value: String)] = []
        if let questionMark = rest.firstIndex(of: "?") {
            let target = RequestTarget("/" + rest[questionMark...])
            query = target.queryItems
            rest = rest[..<questionMark]
        }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authority: Substring
        let urlPath: String
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            urlPath = String(rest[slash...])
        } else {
            authority = rest
            urlPath = "/"
        }
        var host = String(authority)
        var port = secure ? 443 : 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL(url) }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()) else { throw .invalidURL(url) }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let value = Int(authority[authority.index(after: colon)...]) else { throw .invalidURL(url) }
            port = value
        }
        guard !host.isEmpty, (1...65535).contains(port) else { throw .invalidURL(url) }
        var configuration = EngineClientConfiguration(secure: secure, host: host, port: port)
        configuration.query = query
        return (configuration, urlPath)
    }

    static func normalize(path: String) -> String {
        var path = path.hasPrefix("/") ? path : "/" + path
        if !path.hasSuffix("/") { path += "/" }
        return path
    }

    /// The `Host` header value.
    var hostHeader: String {
        let defaultPort = self.secure ? 443 : 80
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return self.port == defaultPort ? host : "\(host):\(self.port)"
    }

    /// The request target for `transport`, with the session id when there is one.
    func requestURI(transport: EngineTransport, sid: String?) -> String {
        var uri = self.path + "?EIO=4&transport=" + transport.rawValue
        if let sid { uri += "&sid=" + EngineClientConfiguration.percentEncode(sid) }
        for item in self.query where item.name != "EIO" && item.name != "transport" && item.name != "sid" {
            uri += "&" + EngineClientConfiguration.percentEncode(item.name) + "=" + EngineClientConfiguration.percentEncode(item.value)
        }
        return uri
    }

    /// The headers of every request: `Host`, then the extra headers.
    func headers() -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: self.hostHeader)
        for header in self.extraHeaders { headers.add(name: header.name, value: header.value) }
        return headers
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func percentEncode(_ string: String) -> String {
        var result = ""
        result.reserveCapacity(string.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result.unicodeScalars.append("%")
                result.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                result.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0x0F)]))
            }
        }
        return result
    }
}
