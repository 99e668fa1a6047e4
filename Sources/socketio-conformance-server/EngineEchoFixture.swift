import EngineIOCore
import EngineIOServer

/// The bare Engine.IO fixture of the protocol's test suite: every message comes back as it came
/// (text stays text, binary stays binary).
final class EngineEchoFixture: EngineSocketDelegate {
    func engineSocket(_ socket: EngineSocket, didReceive message: EngineMessage) {
        socket.send(message)
    }

    func engineSocket(_ socket: EngineSocket, didCloseWith reason: EngineCloseReason) {}
}
