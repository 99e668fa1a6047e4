import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import ServiceLifecycle
import SocketIOHummingbird
import SocketIOServer

/// The fixture mounted on a Hummingbird 2 application that has routes and middleware of its own.
enum HummingbirdMount {
    static func run(io: SocketIO, host: String, port: Int, tls: TLSConfiguration?) async throws {
        let router = Router()
        router.add(middleware: HummingbirdAppMarker())
        router.get("health") { _, _ in "ok" }
        let server: HTTPServerBuilder = try tls.map { try .tls(.http1(socketIO: io), tlsConfiguration: $0) } ?? .http1(socketIO: io)
        let app = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "conformance-hummingbird"),
            onServerRunning: { channel in
                FileHandle.standardOutput.write(Data("listening on \(channel.localAddress.map { "\($0)" } ?? "?") (hummingbird)\n".utf8))
            }
        )
        // SIGTERM / SIGINT: Hummingbird's graceful shutdown, which closes the Socket.IO sessions properly.
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

/// The application's own middleware: marks its answers, and answers its 404s itself, so that tests can
/// tell the application's answers from Socket.IO's.
struct HummingbirdAppMarker<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            response = Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: "app 404")))
        }
        response.headers[.init("X-App-Middleware")!] = "hummingbird"
        return response
    }
}
