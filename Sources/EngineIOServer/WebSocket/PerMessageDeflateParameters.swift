/// The permessage-deflate parameters agreed in one handshake (RFC 7692 section 7.1).
public struct PerMessageDeflateParameters: Sendable, Hashable {
    /// The server resets its compression context after each message.
    public var serverNoContextTakeover: Bool
    /// The client resets its compression context after each message, so the server may drop its inflate history.
    public var clientNoContextTakeover: Bool
    /// The LZ77 window (power of two, 8...15) the server's messages may use. 8 means Huffman-only compression.
    public var serverMaxWindowBits: Int
    /// The LZ77 window (8...15) the client's messages may use; the server inflates with 15, which reads any.
    public var clientMaxWindowBits: Int
    /// Whether the response states `client_max_window_bits` explicitly.
    var announcesClientMaxWindowBits: Bool
    /// Whether the response states `server_max_window_bits` explicitly.
    var announcesServerMaxWindowBits: Bool

    /// Creates negotiated parameters (used by tests and by callers that negotiate themselves).
    public init(
        serverNoContextTakeover: Bool = false,
        clientNoContextTakeover: Bool = false,
        serverMaxWindowBits: Int = 15,
        clientMaxWindowBits: Int = 15
    ) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
        self.announcesServerMaxWindowBits = serverMaxWindowBits != 15
        self.announcesClientMaxWindowBits = clientMaxWindowBits != 15
    }

    /// The `Sec-WebSocket-Extensions` response value that states these parameters.
    public var headerValue: String {
        var value = "permessage-deflate"
        if self.serverNoContextTakeover { value += "; server_no_context_takeover" }
        if self.clientNoContextTakeover { value += "; client_no_context_takeover" }
        if self.announcesServerMaxWindowBits { value += "; server_max_window_bits=\(self.serverMaxWindowBits)" }
        if self.announcesClientMaxWindowBits { value += "; client_max_window_bits=\(self.clientMaxWindowBits)" }
        return value
    }
}
