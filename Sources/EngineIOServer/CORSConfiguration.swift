import NIOHTTP1

/// Cross-origin resource sharing for the Engine.IO endpoint, shaped like the options of the `cors` package
/// that Node.js's engine.io uses.
///
/// The same origin policy also guards WebSocket upgrades: a browser's upgrade request carrying an `Origin`
/// that is neither allowed here nor the server's own origin is refused with 403.
public struct CORSConfiguration: Sendable {
    /// Which origins may read the server's answers.
    public enum AllowedOrigins: Sendable {
        /// Every origin (`Access-Control-Allow-Origin: *`, or the request's origin when credentials are on).
        case any
        /// Exactly these origins (`https://example.com`), echoed back when they match.
        case list([String])
        /// Origins for which the closure answers true.
        case custom(@Sendable (String) -> Bool)
    }

    /// Which origins are allowed.
    public var origin: AllowedOrigins
    /// Whether to send `Access-Control-Allow-Credentials: true`.
    public var credentials: Bool
    /// Methods announced in answers to preflight requests.
    public var methods: [String]
    /// Headers announced in preflight answers; nil reflects the request's `Access-Control-Request-Headers`.
    public var allowedHeaders: [String]?
    /// Headers the browser may expose to scripts.
    public var exposedHeaders: [String]
    /// Seconds a preflight answer may be cached.
    public var maxAge: Int?

    /// Creates a CORS policy.
    public init(
        origin: AllowedOrigins,
        credentials: Bool = false,
        methods: [String] = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"],
        allowedHeaders: [String]? = nil,
        exposedHeaders: [String] = [],
        maxAge: Int? = nil
    ) {
        self.origin = origin
        self.credentials = credentials
        self.methods = methods
        self.allowedHeaders = allowedHeaders
        self.exposedHeaders = exposedHeaders
        self.maxAge = maxAge
    }

    /// Whether `origin` is allowed by this policy.
    public func allows(origin: String) -> Bool {
        switch self.origin {
        case .any: return true
        case .list(let origins): return origins.contains(origin)
        case .custom(let check): return check(origin)
        }
    }

    /// Adds the headers of an ordinary (non-preflight) answer to a request from `requestOrigin`.
    func addResponseHeaders(to headers: inout HTTPHeaders, requestOrigin: String?) {
        switch self.origin {
        case .any where !self.credentials:
            headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: "*")
        default:
            headers.add(name: "Vary", value: "Origin")
            guard let requestOrigin, self.allows(origin: requestOrigin) else { return }
            headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: requestOrigin)
        }
        if self.credentials { headers.replaceOrAdd(name: "Access-Control-Allow-Credentials", value: "true") }
        if !self.exposedHeaders.isEmpty {
            headers.replaceOrAdd(name: "Access-Control-Expose-Headers", value: self.exposedHeaders.joined(separator: ","))
        }
    }

    /// The headers of the answer to a preflight (`OPTIONS`) request.
    func preflightHeaders(request: HTTPHeaders) -> HTTPHeaders {
        var headers = HTTPHeaders()
        self.addResponseHeaders(to: &headers, requestOrigin: request.first(name: "Origin"))
        headers.add(name: "Access-Control-Allow-Methods", value: self.methods.joined(separator: ","))
        if let allowedHeaders {
            headers.add(name: "Access-Control-Allow-Headers", value: allowedHeaders.joined(separator: ","))
        } else if let requested = request.first(name: "Access-Control-Request-Headers") {
            headers.add(name: "Vary", value: "Access-Control-Request-Headers")
            headers.add(name: "Access-Control-Allow-Headers", value: requested)
        }
        if let maxAge { headers.add(name: "Access-Control-Max-Age", value: String(maxAge)) }
        headers.add(name: "Content-Length", value: "0")
        return headers
    }
}
