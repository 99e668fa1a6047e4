/// Identifies a listener added with `onAny`/`onAnyOutgoing`, to remove it later.
public struct ListenerID: Hashable, Sendable {
    let value: Int
}
