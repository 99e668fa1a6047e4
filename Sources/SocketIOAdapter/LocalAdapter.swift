/// The adapter of one node's sockets in a namespace (the server's `InMemoryAdapter`): what a cluster
/// adapter delivers through, plus a synchronous view of the sockets for answering other nodes' requests.
public protocol LocalAdapter: Adapter {
    /// This node's sockets that `options` selects (members of any target room, minus members of any
    /// excepted room; every socket when no room is given), described.
    func localSockets(_ options: BroadcastOptions) -> [FetchedSocket]
}
