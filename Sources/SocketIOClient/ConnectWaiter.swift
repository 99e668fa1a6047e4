import NIOConcurrencyHelpers

/// One caller of `try await socket.connect()`: resumed once, by the outcome or by cancellation.
final class ConnectWaiter: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Void, Error>)
        case finished(Result<Void, Error>)
        case resumed
    }

    private let state = NIOLockedValueBox(State.idle)

    func install(_ continuation: CheckedContinuation<Void, Error>) {
        let early: Result<Void, Error>? = self.state.withLockedValue { state in
            if case .finished(let result) = state {
                state = .resumed
                return result
            }
            state = .waiting(continuation)
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func resume(_ result: Result<Void, Error>) {
        let continuation: CheckedContinuation<Void, Error>? = self.state.withLockedValue { state in
            switch state {
            case .idle:
                state = .finished(result)
                return nil
            case .waiting(let continuation):
                state = .resumed
                return continuation
            case .finished, .resumed:
                return nil
            }
        }
        continuation?.resume(with: result)
    }
}
