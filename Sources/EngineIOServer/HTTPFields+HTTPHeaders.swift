import HTTPTypes
import NIOHTTP1

extension HTTPFields {
    /// The fields of NIO's `HTTPHeaders`, in order, `Host` included; a header whose name is not a valid
    /// field name (NIO's decoder lets none through) is left out.
    package init(_ headers: HTTPHeaders) {
        self.init()
        self.reserveCapacity(headers.count)
        for (name, value) in headers {
            guard let name = HTTPField.Name(name) else { continue }
            self.append(HTTPField(name: name, value: value))
        }
    }
}

extension HTTPHeaders {
    /// NIO's headers for swift-http-types fields (names as the application spelled them).
    package init(_ fields: HTTPFields) {
        self.init(fields.map { ($0.name.rawName, $0.value) })
    }
}

extension HTTPRequest {
    /// The swift-http-types head of a request NIO decoded: `Host` becomes the authority.
    /// Nil when the method is not a valid token.
    package init?(_ head: HTTPRequestHead, isSecure: Bool) {
        guard let method = HTTPRequest.Method(head.method.rawValue) else { return nil }
        var fields = HTTPFields()
        fields.reserveCapacity(head.headers.count)
        var authority: String?
        for (name, value) in head.headers {
            if authority == nil, name.lowercased() == "host" {
                authority = value
                continue
            }
            guard let name = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: name, value: value))
        }
        self.init(method: method, scheme: isSecure ? "https" : "http", authority: authority, path: head.uri, headerFields: fields)
    }
}

extension HTTPResponseHead {
    /// NIO's HTTP/1.1 response head for a swift-http-types response.
    package init(_ response: HTTPResponse) {
        self.init(
            version: .http1_1,
            status: HTTPResponseStatus(statusCode: response.status.code, reasonPhrase: response.status.reasonPhrase),
            headers: HTTPHeaders(response.headerFields)
        )
    }
}
