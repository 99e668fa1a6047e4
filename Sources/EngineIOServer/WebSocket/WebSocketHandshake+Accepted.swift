import NIOHTTP1

extension WebSocketHandshake {
    /// An accepted upgrade: the 101 response to send and what was negotiated.
    public struct Accepted: Sendable {
        /// The HTTP version of the request, answered in kind.
        public var version: HTTPVersion
        /// `Upgrade`, `Connection`, `Sec-WebSocket-Accept`, and `Sec-WebSocket-Extensions` when deflate was
        /// negotiated. Callers may add headers (cookies, for example) before upgrading.
        public var headers: HTTPHeaders
        /// The negotiated permessage-deflate parameters, or `nil` when the extension is not in use.
        public var permessageDeflate: PerMessageDeflateParameters?

        /// Creates an accepted handshake (normally made by ``WebSocketHandshake/accept(_:configuration:)``).
        public init(version: HTTPVersion, headers: HTTPHeaders, permessageDeflate: PerMessageDeflateParameters?) {
            self.version = version
            self.headers = headers
            self.permessageDeflate = permessageDeflate
        }

        /// The `101 Switching Protocols` response head.
        public var responseHead: HTTPResponseHead {
            HTTPResponseHead(version: self.version, status: .switchingProtocols, headers: self.headers)
        }
    }
}
