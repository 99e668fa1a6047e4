/// Why permessage-deflate could not process a message.
enum PerMessageDeflateError: Error, Equatable {
    /// The inflated message would exceed the configured limit (answered with close 1009).
    case messageTooLarge
    /// The compressed data is not valid deflate (answered with close 1007).
    case corruptData
    /// zlib failed for another reason (answered with close 1011).
    case internalError
}
