#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import EngineIOCore
import NIOCore

extension EngineHandshake {
    private struct Wire: Decodable {
        var sid: String
        var upgrades: [String]?
        var pingInterval: Int
        var pingTimeout: Int
        var maxPayload: Int?
    }

    /// Reads the JSON of an open packet (`{"sid":…,"upgrades":[…],"pingInterval":…,"pingTimeout":…,"maxPayload":…}`).
    public init(openPacket packet: EnginePacket) throws(EngineClientError) {
        guard packet.type == .open else { throw .badHandshake("expected an open packet, got \(packet.type)") }
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(packet.payload.readableBytesView))
        } catch {
            throw .badHandshake("\(error)")
        }
        self.init(
            sid: wire.sid,
            upgrades: wire.upgrades ?? [],
            pingInterval: wire.pingInterval,
            pingTimeout: wire.pingTimeout,
            maxPayload: wire.maxPayload ?? 1_000_000
        )
    }
}

extension EngineErrorCode {
    private struct Wire: Decodable {
        var code: Int
        var message: String?
    }

    /// Reads an error body `{"code":N,"message":"..."}`; nil when the body is not one.
    public init?(jsonBody: ByteBuffer) {
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(jsonBody.readableBytesView)) else { return nil }
        self.init(code: wire.code, message: wire.message ?? "")
    }
}
