/// Unguessable session and socket ids: 120 bits from the system's cryptographic random source
/// (`getrandom(2)` on Linux), written as 20 base64url characters.
public enum SessionID {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// A new random id.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return String(unsafeUninitializedCapacity: 20) { output in
            for index in 0..<10 {
                output[index] = alphabet[Int((high >> UInt64(index * 6)) & 0x3F)]
                output[index + 10] = alphabet[Int((low >> UInt64(index * 6)) & 0x3F)]
            }
            return 20
        }
    }
}
