/// The cookie an Engine.IO server may set on the handshake answer, holding the session id
/// (useful for load balancers that route by cookie).
public struct EngineCookie: Sendable, Hashable {
    /// The cookie's name (engine.io's default is `io`).
    public var name: String
    /// Its `Path` attribute.
    public var path: String?
    /// Whether it is `HttpOnly`.
    public var httpOnly: Bool
    /// Its `SameSite` attribute (`Lax`, `Strict` or `None`).
    public var sameSite: String?
    /// Whether it is `Secure`.
    public var secure: Bool
    /// Its `Max-Age` in seconds.
    public var maxAge: Int?

    /// Creates a cookie description; the defaults match engine.io's.
    public init(name: String = "io", path: String? = "/", httpOnly: Bool = true, sameSite: String? = "Lax", secure: Bool = false, maxAge: Int? = nil) {
        self.name = name
        self.path = path
        self.httpOnly = httpOnly
        self.sameSite = sameSite
        self.secure = secure
        self.maxAge = maxAge
    }

    /// The `Set-Cookie` value for session `sid`.
    func headerValue(sid: String) -> String {
        var value = "\(self.name)=\(sid)"
        if let path { value += "; Path=\(path)" }
        if let maxAge { value += "; Max-Age=\(maxAge)" }
        if self.httpOnly { value += "; HttpOnly" }
        if self.secure { value += "; Secure" }
        if let sameSite { value += "; SameSite=\(sameSite)" }
        return value
    }
}
