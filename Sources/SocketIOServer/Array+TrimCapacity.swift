extension Array {
    /// Moves the elements to a buffer of their size (appending grows the buffer by doubling): for arrays
    /// kept per connection once they are filled. Nothing happens when the buffer fits already.
    mutating func trimCapacity() {
        guard self.capacity > self.count else { return }
        var trimmed: [Element] = []
        trimmed.reserveCapacity(self.count)
        trimmed.append(contentsOf: self)
        self = trimmed
    }
}
