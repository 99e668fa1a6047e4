import NIOConcurrencyHelpers
import NIOCore

/// Whether a server has bound its socket yet, for `HTTPServer.localAddress`.
final class ListeningState: Sendable {
    private enum State {
        case waiting([CheckedContinuation<SocketAddress, any Error>])
        case bound(SocketAddress)
        case failed(any Error)
    }
    private let state = NIOLockedValueBox(State.waiting([]))

    func bound(_ address: SocketAddress) { self.finish(.bound(address)) }
    func failed(_ error: any Error) { self.finish(.failed(error)) }

    func address() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            let result: Result<SocketAddress, any Error>? = self.state.withLockedValue { state in
                switch state {
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                case .bound(let address): return .success(address)
                case .failed(let error): return .failure(error)
                }
            }
            if let result { continuation.resume(with: result) }
        }
    }

    private func finish(_ final: State) {
        let waiters: [CheckedContinuation<SocketAddress, any Error>] = self.state.withLockedValue { state in
            guard case .waiting(let waiters) = state else { return [] }
            state = final
            return waiters
        }
        for waiter in waiters {
            switch final {
            case .bound(let address): waiter.resume(returning: address)
            case .failed(let error): waiter.resume(throwing: error)
            case .waiting: break
            }
        }
    }
}
