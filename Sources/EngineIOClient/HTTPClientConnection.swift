import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A finished HTTP response.
struct HTTPClientResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer
}

/// One request handed to an ``HTTPExchangeHandler``.
struct HTTPExchange: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var promise: EventLoopPromise<HTTPClientResponse>
}

/// Builds the channels of the client: TCP, then TLS when configured.
struct ClientChannelFactory: Sendable {
    let configuration: EngineClientConfiguration
    let sslContext: NIOSSLContext?

    init(configuration: EngineClientConfiguration) throws {
        self.configuration = configuration
        if configuration.secure {
            let tls = configuration.tlsConfiguration ?? TLSConfiguration.makeClientConfiguration()
            self.sslContext = try NIOSSLContext(configuration: tls)
        } else {
            self.sslContext = nil
        }
    }

    /// The SNI host name: nil for IP addresses.
    var serverHostname: String? {
        let host = self.configuration.host
        if (try? SocketAddress(ipAddress: host, port: 0)) != nil { return nil }
        return host
    }

    /// Connects and lets `configure` add the handlers after the TLS handler.
    func connect(
        on eventLoop: EventLoop,
        configure: @escaping @Sendable (Channel) throws -> Void
    ) -> EventLoopFuture<Channel> {
        let sslContext = self.sslContext
        let hostname = self.serverHostname
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(self.configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: hostname)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try configure(channel)
                }
            }
            .connect(host: self.configuration.host, port: self.configuration.port)
    }
}

/// A keep-alive HTTP/1.1 connection carrying one request at a time; reconnects when the server closed it.
/// Confined to its event loop.
final class HTTPClientConnection {
    private let eventLoop: EventLoop
    private let factory: ClientChannelFactory
    private var channel: EventLoopFuture<Channel>?
    private var isClosed = false

    init(eventLoop: EventLoop, factory: ClientChannelFactory) {
        self.eventLoop = eventLoop
        self.factory = factory
    }

    /// Sends a request and returns its response.
    func request(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: ByteBuffer?) -> EventLoopFuture<HTTPClientResponse> {
        self.eventLoop.preconditionInEventLoop()
        guard !self.isClosed else { return self.eventLoop.makeFailedFuture(EngineClientError.closed) }
        var headers = headers
        if let body {
            headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
            headers.replaceOrAdd(name: "Content-Type", value: "text/plain;charset=UTF-8")
        }
        headers.replaceOrAdd(name: "Accept", value: "*/*")
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)
        let promise = self.eventLoop.makePromise(of: HTTPClientResponse.self)
        let channelFuture = self.currentChannel()
        channelFuture.whenComplete { result in
            switch result {
            case .success(let channel):
                channel.writeAndFlush(HTTPExchange(head: head, body: body, promise: promise), promise: nil)
            case .failure(let error):
                promise.fail(error)
            }
        }
        return promise.futureResult
    }

    private func currentChannel() -> EventLoopFuture<Channel> {
        if let channel = self.channel { return channel }
        let future = self.factory.connect(on: self.eventLoop) { channel in
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            try channel.pipeline.syncOperations.addHandler(HTTPExchangeHandler())
        }
        self.channel = future
        future.assumeIsolated().whenComplete { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let channel):
                if self.isClosed {
                    channel.close(promise: nil)
                    return
                }
                channel.closeFuture.assumeIsolated().whenComplete { [weak self] _ in
                    // The next request opens a new connection.
                    if let self, self.channel === future { self.channel = nil }
                }
            case .failure:
                if self.channel === future { self.channel = nil }
            }
        }
        return future
    }

    /// Closes the connection; requests in flight fail.
    func close() {
        self.isClosed = true
        self.channel?.whenSuccess { $0.close(promise: nil) }
        self.channel = nil
    }
}

/// Writes one request, collects its response, completes the exchange's promise.
final class HTTPExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPExchange
    typealias OutboundOut = HTTPClientRequestPart

    private var pending: EventLoopPromise<HTTPClientResponse>?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = self.unwrapOutboundIn(data)
        if let previous = self.pending {
            previous.fail(EngineClientError.connection("request pipelined on a busy connection"))
        }
        self.pending = exchange.promise
        self.head = nil
        self.body.clear()
        context.write(self.wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let body = exchange.body, body.readableBytes > 0 {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.write(self.wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(var part):
            self.body.writeBuffer(&part)
        case .end:
            guard let head = self.head, let promise = self.pending else { return }
            self.pending = nil
            self.head = nil
            let response = HTTPClientResponse(status: head.status, headers: head.headers, body: self.body)
            self.body = ByteBuffer()
            if !head.isKeepAlive { context.close(promise: nil) }
            promise.succeed(response)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.failPending(EngineClientError.connection("\(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failPending(EngineClientError.connection("connection closed"))
        context.fireChannelInactive()
    }

    private func failPending(_ error: Error) {
        if let promise = self.pending {
            self.pending = nil
            promise.fail(error)
        }
    }
}
