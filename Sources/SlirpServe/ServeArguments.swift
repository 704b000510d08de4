import NIOCore
import SlirpMetrics

/// `slirpmon serve`'s command line, as `slirpmon` hands it to `slirpmon-serve`:
/// `--listen ADDR:PORT [--per-forward] [--scrape-timeout SECONDS]`.
public struct ServeArguments: Sendable {
    public var listen: ListenAddress
    public var perForward = false
    public var limits = ServeLimits()

    public static let usage = "usage: slirpmon serve --listen ADDR:PORT [--per-forward] [--scrape-timeout SECONDS]"

    public init(_ arguments: [String]) throws(ServeError) {
        var listen: ListenAddress?
        var perForward = false
        var limits = ServeLimits()
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            let (name, inline) = argument.hasPrefix("--") && argument.contains("=")
                ? (String(argument.prefix { $0 != "=" }), Optional(String(argument.drop { $0 != "=" }.dropFirst())))
                : (argument, nil)
            func value() throws(ServeError) -> String {
                if let inline { return inline }
                guard let next = rest.popFirst() else { throw .usage("\(name) needs a value (\(Self.usage))") }
                return next
            }
            switch name {
            case "--listen": listen = try ListenAddress(parsing: try value())
            case "--per-forward": perForward = true
            case "--scrape-timeout":
                let text = try value()
                guard let seconds = Double(text), ScrapeTimeout.range.contains(seconds) else { throw .usage(ScrapeTimeout.outOfRange(got: text)) }
                limits.scrapeTimeout = .nanoseconds(Int64(seconds * 1e9))
            default: throw .usage("unknown argument \(argument) (\(Self.usage))")
            }
        }
        guard let listen else { throw .usage("--listen ADDR:PORT is required, e.g. --listen 127.0.0.1:9184 (\(Self.usage))") }
        self.listen = listen
        self.perForward = perForward
        self.limits = limits
    }
}
