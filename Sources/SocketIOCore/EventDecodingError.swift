#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An event whose payload did not decode as the type its handler asked for (`socket.on("bid", as: Bid.self)`):
/// the sender's mistake, not the receiver's.
///
/// When the sender asked for an acknowledgement, the receiver answers it with ``reply``, one argument:
///
/// ```json
/// {"error": "invalid payload", "event": "bid", "message": "amount: expected Int, found a string"}
/// ```
///
/// Socket.IO has no convention for error acknowledgements; this follows the common Node.js habit of
/// answering `callback({error: ...})`, so that a JavaScript client can test `if (answer.error)`.
public struct EventDecodingError: Error, Sendable, CustomStringConvertible {
    /// The event's name.
    public let event: String
    /// The name of the type the payload did not decode as.
    public let expectedType: String
    /// What did not decode, readable: the path of the value in the payload and the problem.
    public private(set) var message: String
    /// The decoder's own error (usually a `DecodingError`).
    public let underlyingError: any Error

    /// The value of ``reply``'s `error` key.
    public static let replyError = "invalid payload"

    /// Describes `error`, thrown while decoding `event`'s payload as `expectedType`.
    public init(event: String, expectedType: Any.Type, underlyingError error: any Error) {
        self.event = event
        self.expectedType = String(describing: expectedType)
        self.underlyingError = error
        self.message = Self.describe(error)
    }

    /// The acknowledgement's one argument: `{"error": "invalid payload", "event": …, "message": …}`.
    public var reply: JSONValue {
        ["error": .string(Self.replyError), "event": .string(self.event), "message": .string(self.message)]
    }

    public var description: String {
        "event \(self.event): payload is not a \(self.expectedType): \(self.message)"
    }

    /// Decodes `arguments`' first element (`null` when there is none) as `T` for `event`.
    public static func decode<T: Decodable>(
        _ type: T.Type,
        from arguments: [JSONValue],
        event: String,
        using decoder: JSONDecoder
    ) -> Result<T, EventDecodingError> {
        self.decodeArguments(T.self, from: arguments, event: event, using: decoder)
    }

    /// Decodes `arguments`' elements in order (`null` for a missing one) as `types`, for `event`: the
    /// first that does not decode is the error, its message prefixed with its position from the second
    /// on (`"argument 2: amount: expected Int, found a string"`).
    public static func decodeArguments<each T: Decodable>(
        _ types: repeat (each T).Type,
        from arguments: [JSONValue],
        event: String,
        using decoder: JSONDecoder
    ) -> Result<(repeat each T), EventDecodingError> {
        var index = 0
        func next<U: Decodable>(_ type: U.Type) throws -> U {
            defer { index += 1 }
            let argument = index < arguments.count ? arguments[index] : .null
            do {
                return try argument.decode(U.self, using: decoder)
            } catch {
                var failure = EventDecodingError(event: event, expectedType: U.self, underlyingError: error)
                if index > 0 { failure.message = "argument \(index + 1): " + failure.message }
                throw failure
            }
        }
        do {
            return .success((repeat try next((each T).self)))
        } catch let error as EventDecodingError {
            return .failure(error)
        } catch {
            return .failure(EventDecodingError(event: event, expectedType: Any.self, underlyingError: error))
        }
    }

    /// A short reading of a `DecodingError`: `"n: expected Int, found a string"`, `"missing key text"`.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty ? "payload" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(type), \(Self.found(context.debugDescription))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(type), found null or nothing"
        case .keyNotFound(let key, let context):
            return "missing key \(path(context.codingPath + [key]))"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// Foundation's "Expected to decode Int but found a string instead." (or "found number instead") as
    /// "found a string" ("found a number").
    private static func found(_ debugDescription: String) -> String {
        guard let range = debugDescription.firstRange(of: "but found ") else { return debugDescription }
        var rest = Substring(debugDescription[range.upperBound...])
        if rest.hasSuffix(" instead.") { rest.removeLast(" instead.".count) }
        for article in ["a ", "an "] where rest.hasPrefix(article) { rest.removeFirst(article.count) }
        let vowel = rest.first.map { "aeiou".contains($0) } ?? false
        return "found \(vowel ? "an" : "a") \(rest)"
    }
}
