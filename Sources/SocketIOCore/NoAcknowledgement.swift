/// The ``TypedEvent/Acknowledgement`` of events acknowledged without a value (or not at all); encodes as
/// `null`, decodes from anything.
public struct NoAcknowledgement: Codable, Sendable, Hashable {
    /// The empty acknowledgement.
    public init() {}

    /// Decodes from any value: the answer is not looked at.
    public init(from decoder: any Decoder) throws {}

    /// Encodes `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encodeNil()
    }
}
