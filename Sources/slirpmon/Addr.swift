import ArgumentParser
import SlirpCore

extension Slirpmon {
    /// `slirpmon addr`: the addresses Podman computes for a slirp4netns network.
    struct Addr: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "addr",
            abstract: "Print the guest, gateway and DNS addresses Podman computes (guest +100, gateway +2, DNS +3).")

        @Option(parsing: .unconditional, help: "The slirp4netns network (default 10.0.2.0/24).") var cidr: String?
        @Flag(help: "Also print the IPv6 addresses (fd00::/64).") var ipv6 = false
        @Flag(help: "Print JSON.") var json = false

        struct Report: Encodable {
            let cidr: String
            @NullWhenAbsent var guest: String?
            @NullWhenAbsent var gateway: String?
            @NullWhenAbsent var dns: String?
            let errors: [String]
            @NullWhenAbsent var ipv6: IPv6?
            struct IPv6: Encodable { let prefix: String; let gateway: String; let dns: String }
        }

        func run() throws {
            if let cidr {
                guard let network = IPv4Network(cidr) else {
                    throw CLIError.usage("invalid cidr \(cidr.abbreviatedQuote): give an IPv4 network such as 10.0.2.0/24")
                }
                // The prefix length first: a suggestion must be a value that is itself accepted.
                // A /0 Podman computes for, and slirp4netns refuses; a /26 or longer, host bits or
                // not, Podman refuses itself (+100 is outside it: its error below).
                if network.prefixLength < 1 {
                    let cause = FailureCause.cidrPrefixLength(cidr, evidence: nil)
                    throw CLIError.usage("--cidr \(cidr.abbreviatedQuote): \(cause.cause); \(cause.fix.replacingOccurrences(of: "cidr=", with: "--cidr "))")
                }
                // Podman clears host bits (Go's ParseCIDR) where slirp4netns refuses them: the
                // network Podman would compute for never starts. Said in the doctor's words.
                if !network.isNetworkAddress && network.prefixLength <= 25 {
                    let cause = FailureCause.cidrNotNetworkAddress(cidr, evidence: nil)
                    throw CLIError.usage("--cidr \(cidr.abbreviatedQuote): \(cause.cause); use --cidr \(network)")
                }
            }
            let expected = ExpectedAddresses(cidr: cidr, ipv6: ipv6)
            var errors: [String] = []
            func text(_ r: Result<IPv4Address, AddressError>) -> String? {
                switch r {
                case .success(let a): return a.description
                case .failure(let e): if !errors.contains(e.description) { errors.append(e.description) }; return nil
                }
            }
            let report = Report(
                cidr: expected.network?.description ?? cidr ?? "", guest: text(expected.guest), gateway: text(expected.gateway),
                dns: text(expected.dns), errors: errors,
                ipv6: expected.ipv6.map { .init(prefix: "\($0.prefix)/\($0.prefixLength)", gateway: $0.gateway.description, dns: $0.dns.description) })
            // Podman's own errors (a network too small for +100): the JSON keeps its shape, with
            // `errors`; the text has no result to print. Errors go to stderr in both.
            if json {
                try FileHandleOutput.json(report)
            } else if errors.isEmpty {
                var lines = ["network  \(report.cidr)"]
                lines.append("guest    \(report.guest ?? "-")")
                lines.append("gateway  \(report.gateway ?? "-")")
                lines.append("dns      \(report.dns ?? "-")")
                if let v6 = report.ipv6 {
                    lines += ["guest6   SLAAC address in \(v6.prefix)", "gateway6 \(v6.gateway)", "dns6     \(v6.dns)"]
                }
                FileHandleOutput.print(lines.joined(separator: "\n"))
            }
            if !errors.isEmpty { throw CLIError.failed("--cidr \((cidr ?? "").abbreviatedQuote): \(errors.joined(separator: "; "))") }
        }
    }
}
