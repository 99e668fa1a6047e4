import NIOHTTP1

/// The server side of the WebSocket opening handshake (RFC 6455 section 4.2), as pure functions: no I/O.
///
/// The HTTP server calls ``accept(_:configuration:)`` on a request that ``isUpgradeRequest(_:)`` and either
/// answers the thrown ``WebSocketHandshakeError`` with its status, or passes the ``Accepted`` value to
/// ``WebSocketUpgrade/upgrade(context:accepted:configuration:removing:then:)``.
public enum WebSocketHandshake {
    /// The GUID that RFC 6455 appends to the key before hashing.
    static let magicGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// True when the request asks for a WebSocket (`Upgrade: websocket`); use it to route a request to
    /// ``accept(_:configuration:)`` rather than to plain HTTP handling.
    public static func isUpgradeRequest(_ head: HTTPRequestHead) -> Bool {
        self.headerTokens(head.headers, "upgrade").contains("websocket")
    }

    /// Validates an upgrade request and builds the 101 answer, negotiating permessage-deflate when the
    /// configuration enables it.
    /// - Throws: ``WebSocketHandshakeError`` describing the first problem found.
    public static func accept(
        _ head: HTTPRequestHead,
        configuration: WebSocketConfiguration
    ) throws(WebSocketHandshakeError) -> Accepted {
        guard head.method == .GET else { throw .methodNotGet }
        guard head.version.major > 1 || (head.version.major == 1 && head.version.minor >= 1) else { throw .httpVersionTooOld }
        guard self.headerTokens(head.headers, "upgrade").contains("websocket") else { throw .missingUpgradeHeader }
        guard self.headerTokens(head.headers, "connection").contains("upgrade") else {
            throw .missingConnectionUpgrade
        }
        let versions = head.headers["sec-websocket-version"]
        guard versions.count == 1, versions[0].trimmingWhitespace() == "13" else { throw .unsupportedVersion }
        let keys = head.headers["sec-websocket-key"]
        guard keys.count == 1 else { throw .invalidKey }
        let key = keys[0].trimmingWhitespace()
        guard let decoded = HandshakeBase64.decode(Substring(key)), decoded.count == 16 else { throw .invalidKey }

        var headers: HTTPHeaders = [
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Accept": self.acceptValue(forKey: key),
        ]
        var deflate: PerMessageDeflateParameters?
        if let deflateConfiguration = configuration.permessageDeflate {
            deflate = PerMessageDeflateNegotiation.negotiate(
                headerValues: head.headers["sec-websocket-extensions"],
                configuration: deflateConfiguration
            )
            if let deflate {
                headers.add(name: "Sec-WebSocket-Extensions", value: deflate.headerValue)
            }
        }
        return Accepted(version: head.version, headers: headers, permessageDeflate: deflate)
    }

    /// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
    public static func acceptValue(forKey key: String) -> String {
        HandshakeBase64.encode(SHA1.hash((key + self.magicGUID).utf8))
    }

    /// The comma-separated, lowercased, trimmed tokens of every value of a header.
    private static func headerTokens(_ headers: HTTPHeaders, _ name: String) -> [String] {
        headers[name].flatMap { $0.split(separator: ",") }.map { String($0).trimmingWhitespace().lowercased() }
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
