/// What the server is willing to negotiate for permessage-deflate (RFC 7692), and how it compresses.
public struct PerMessageDeflateConfiguration: Sendable, Hashable {
    /// Always ask to reset our compression context after each message (`server_no_context_takeover`), saving
    /// memory per idle connection at the cost of ratio. The server also resets when the client asks for it.
    public var serverNoContextTakeover: Bool
    /// Ask the client to reset its compression context after each message (`client_no_context_takeover`);
    /// then the server also frees its inflate history between messages.
    public var clientNoContextTakeover: Bool
    /// Largest LZ77 window (as a power of two, 9...15) the server compresses with. A client offer may lower it.
    /// An offer of 8 is accepted, but zlib cannot make raw deflate streams with a 256-byte window, so the
    /// server then compresses with Huffman coding only (no back-references), which any window can inflate.
    public var serverMaxWindowBits: Int
    /// Window (8...15) to ask the client to limit itself to, sent only when the client's offer carries
    /// `client_max_window_bits` (RFC 7692 section 7.1.2.2). 15 asks nothing.
    public var clientMaxWindowBits: Int
    /// zlib compression level, 0 (store) ... 9 (best), default 6.
    public var compressionLevel: Int
    /// zlib memory level, 1...9, default 8. Lower uses less memory per connection and compresses less.
    public var memoryLevel: Int
    /// Outgoing messages with fewer bytes than this are sent uncompressed (compression rarely pays for tiny
    /// messages). Default 1024, like the Node.js `ws` library's threshold.
    public var minimumCompressionSize: Int

    /// Creates a permessage-deflate configuration; every parameter has the default described on its property.
    public init(
        serverNoContextTakeover: Bool = false,
        clientNoContextTakeover: Bool = false,
        serverMaxWindowBits: Int = 15,
        clientMaxWindowBits: Int = 15,
        compressionLevel: Int = 6,
        memoryLevel: Int = 8,
        minimumCompressionSize: Int = 1024
    ) {
        precondition((9...15).contains(serverMaxWindowBits), "serverMaxWindowBits must be in 9...15")
        precondition((8...15).contains(clientMaxWindowBits), "clientMaxWindowBits must be in 8...15")
        precondition((0...9).contains(compressionLevel), "compressionLevel must be in 0...9")
        precondition((1...9).contains(memoryLevel), "memoryLevel must be in 1...9")
        precondition(minimumCompressionSize >= 0, "minimumCompressionSize must not be negative")
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
        self.compressionLevel = compressionLevel
        self.memoryLevel = memoryLevel
        self.minimumCompressionSize = minimumCompressionSize
    }
}
