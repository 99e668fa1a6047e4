import NIOCore

/// permessage-deflate on one connection that negotiated it: the server's options, what the handshake
/// agreed, and the compressor and decompressor, made when first needed. A connection without the extension
/// has none (its ``WebSocketMessageHandler`` holds no room for any of it).
final class PerMessageDeflateSession {
    let configuration: PerMessageDeflateConfiguration
    let parameters: PerMessageDeflateParameters
    private var existingCompressor: PerMessageDeflateCompressor?
    private(set) var existingDecompressor: PerMessageDeflateDecompressor?

    init(configuration: PerMessageDeflateConfiguration, parameters: PerMessageDeflateParameters) {
        self.configuration = configuration
        self.parameters = parameters
    }

    /// The compressor of server messages.
    var compressor: PerMessageDeflateCompressor {
        if let compressor = self.existingCompressor { return compressor }
        let compressor = PerMessageDeflateCompressor(
            windowBits: self.parameters.serverMaxWindowBits,
            compressionLevel: self.configuration.compressionLevel,
            memoryLevel: self.configuration.memoryLevel,
            noContextTakeover: self.parameters.serverNoContextTakeover
        )
        self.existingCompressor = compressor
        return compressor
    }

    /// The decompressor of client messages.
    var decompressor: PerMessageDeflateDecompressor {
        if let decompressor = self.existingDecompressor { return decompressor }
        let decompressor = PerMessageDeflateDecompressor(
            noContextTakeover: self.parameters.clientNoContextTakeover,
            allocator: ByteBufferAllocator()
        )
        self.existingDecompressor = decompressor
        return decompressor
    }
}

@available(*, unavailable)
extension PerMessageDeflateSession: Sendable {}
