/// What stops `slirpmon serve`, each with the exit status it gets.
public enum ServeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A --listen value that is no ADDR:PORT (usage: exit 2).
    case badListen(String)
    /// Another command-line mistake (usage: exit 2).
    case usage(String)
    /// The address could not be bound (in use, not on this host, a privileged port): exit 1.
    case cannotListen(address: String, reason: String)

    public var description: String {
        switch self {
        case .badListen(let message), .usage(let message): return message
        case .cannotListen(let address, let reason):
            return "cannot listen on \(address): \(reason) (another program holds the port, or the address is not on this host)"
        }
    }

    /// 2 for usage, 1 for a failure at run time (the house rule of every slirpmon command).
    public var exitStatus: Int32 {
        switch self {
        case .badListen, .usage: return 2
        case .cannotListen: return 1
        }
    }
}
