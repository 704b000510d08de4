@testable import SlirpCore
import Testing

/// Docker rootless's published ports: the proxies' command lines (a user's text, taken only in
/// dockerd's exact form) and the join from a RootlessKit port to the container it serves.
@Suite("Docker rootless ports: proxy command lines and the join to containers")
struct DockerProxyTests {
    static let line = ["-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "18700", "-container-ip", "172.17.0.2", "-container-port", "80"]

    @Test("dockerd's rootlesskit-docker-proxy line gives the host and container address and port")
    func parsesDockerdsLine() throws {
        let mapping = try DockerProxyProcess.parse(arguments: Self.line).get()
        #expect(mapping == .init(proto: "tcp", hostIP: "127.0.0.1", hostPort: 18700, containerIP: "172.17.0.2", containerPort: 80))
        // docker-proxy's order differs; the same flags.
        let child = ["-container-ip", "172.17.0.2", "-container-port", "80", "-host-ip", "::", "-host-port", "18700", "-proto", "udp"]
        let six = try DockerProxyProcess.parse(arguments: child).get()
        #expect(six.hostIP == "::" && six.isIPv6 && six.proto == "udp")
    }

    @Test("a command line not in dockerd's exact form is refused, with a reason that does not repeat it",
          arguments: [
            ["--proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "18700", "-container-ip", "172.17.0.2", "-container-port", "80"],
            ["-proto=tcp", "-host-ip", "127.0.0.1", "-host-port", "18700", "-container-ip", "172.17.0.2", "-container-port", "80", "x"],
            ["-proto", "tcp", "-proto", "tcp", "-host-port", "18700", "-container-ip", "172.17.0.2", "-container-port", "80"],
            ["-proto", "raw", "-host-ip", "127.0.0.1", "-host-port", "18700", "-container-ip", "172.17.0.2", "-container-port", "80"],
            ["-proto", "tcp", "-host-ip", "127.0.0.01", "-host-port", "18700", "-container-ip", "172.17.0.2", "-container-port", "80"],
            ["-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "0", "-container-ip", "172.17.0.2", "-container-port", "80"],
            ["-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "65536", "-container-ip", "172.17.0.2", "-container-port", "80"],
            ["-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "+8080", "-container-ip", "172.17.0.2", "-container-port", "80"],
            ["-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "18700", "-container-ip", "web\u{1b}[2J", "-container-port", "80"],
            ["-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "18700", "-container-ip", "172.17.0.2", "-container-port", "80", "-x", "1"],
            ["-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", "18700", "-container-ip", "172.17.0.2", "\u{1b}]0;x\u{7}", "80"],
          ])
    func refusesOtherForms(arguments: [String]) {
        guard case .failure(let error) = DockerProxyProcess.parse(arguments: arguments) else {
            Issue.record("taken: \(arguments)")
            return
        }
        #expect(!error.description.contains("\u{1b}"), "\(error)")
    }

    static func proxy(_ pid: Int32, parent: Int32, _ kind: DockerProxyProcess.Kind, host: String, port: Int, container: String = "172.17.0.2", containerPort: Int = 80) -> DockerProxyProcess {
        DockerProxyProcess(pid: pid, parentPID: parent, uid: 1008, kind: kind,
                           mapping: .init(proto: "tcp", hostIP: host, hostPort: port, containerIP: container, containerPort: containerPort))
    }
    static let web = DockerContainerAddress(id: String(repeating: "a", count: 64), name: "web1", addresses: ["172.17.0.2"])

    @Test("the port Docker registers for -p 127.0.0.1:18700:80 belongs to the container at the proxy's address")
    func joinsDockersPort() {
        let proxies = [Self.proxy(10, parent: 5, .rootlessKitProxy, host: "127.0.0.1", port: 18700),
                       Self.proxy(11, parent: 10, .dockerProxy, host: "127.0.0.1", port: 18700)]
        let port = RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.1", parentPort: 18700, childIP: "127.0.0.1", childPort: 18700)
        let owner = DockerPortJoin.owner(of: port, proxies: proxies, containers: [Self.web])
        #expect(owner == .init(proxyPID: 10, containerIP: "172.17.0.2", containerPort: 80, containerName: "web1"))
        // The slirp4netns port driver: childIP is slirp's tap address, which docker-proxy listens on.
        let slirpProxies = [Self.proxy(10, parent: 5, .rootlessKitProxy, host: "127.0.0.1", port: 18710),
                            Self.proxy(11, parent: 10, .dockerProxy, host: "10.0.2.100", port: 18710)]
        let slirpPort = RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.1", parentPort: 18710, childIP: "10.0.2.100", childPort: 18710)
        #expect(DockerPortJoin.owner(of: slirpPort, proxies: slirpProxies, containers: [Self.web])?.containerName == "web1")
    }

    @Test("a port added live (for the container's bridge address, or another family) has no Docker owner")
    func liveAndMismatchedPortsHaveNoOwner() {
        let proxies = [Self.proxy(10, parent: 5, .rootlessKitProxy, host: "127.0.0.1", port: 18700),
                       Self.proxy(11, parent: 10, .dockerProxy, host: "127.0.0.1", port: 18700)]
        let live = RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: 18701, childIP: "172.17.0.2", childPort: 80)
        #expect(DockerPortJoin.owner(of: live, proxies: proxies, containers: [Self.web]) == nil)
        #expect(DockerPortJoin.liveTarget(of: live, containers: [Self.web]) == Self.web)
        let registered = RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.1", parentPort: 18700, childIP: "127.0.0.1", childPort: 18700)
        #expect(DockerPortJoin.liveTarget(of: registered, containers: [Self.web]) == nil)
        // Same host port, but RootlessKit forwards to another child port than the proxy listens on.
        let elsewhere = RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.1", parentPort: 18700, childIP: "127.0.0.1", childPort: 80)
        #expect(DockerPortJoin.owner(of: elsewhere, proxies: proxies, containers: [Self.web]) == nil)
        let six = RootlessKitPortSpec(proto: "tcp6", parentIP: "127.0.0.1", parentPort: 18700, childIP: "::1", childPort: 18700)
        #expect(DockerPortJoin.owner(of: six, proxies: proxies, containers: [Self.web]) == nil)
        let udp = RootlessKitPortSpec(proto: "udp4", parentIP: "127.0.0.1", parentPort: 18700, childIP: "127.0.0.1", childPort: 18700)
        #expect(DockerPortJoin.owner(of: udp, proxies: proxies, containers: [Self.web]) == nil)
        // A docker-proxy child listening elsewhere than RootlessKit's childIP does not confirm it.
        let wrongChild = [Self.proxy(10, parent: 5, .rootlessKitProxy, host: "127.0.0.1", port: 18700),
                          Self.proxy(11, parent: 10, .dockerProxy, host: "10.0.2.100", port: 18700)]
        let port = RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.1", parentPort: 18700, childIP: "127.0.0.1", childPort: 18700)
        #expect(DockerPortJoin.owner(of: port, proxies: wrongChild, containers: [Self.web]) == nil)
    }

    @Test("two containers claiming one address name neither; two proxies for one port own it neither")
    func ambiguityIsNotGuessed() {
        let proxies = [Self.proxy(10, parent: 5, .rootlessKitProxy, host: "127.0.0.1", port: 18700)]
        let port = RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.1", parentPort: 18700, childIP: "127.0.0.1", childPort: 18700)
        let twin = DockerContainerAddress(id: String(repeating: "b", count: 64), name: "web2", addresses: ["172.17.0.2"])
        let owner = DockerPortJoin.owner(of: port, proxies: proxies, containers: [Self.web, twin])
        #expect(owner != nil && owner?.containerName == nil)
        let two = proxies + [Self.proxy(12, parent: 5, .rootlessKitProxy, host: "127.0.0.1", port: 18700, container: "172.17.0.3")]
        #expect(DockerPortJoin.owner(of: port, proxies: two, containers: [Self.web]) == nil)
    }

    @Test("a user's daemon answering GET /containers/json with escapes, a bad ID, name or address is refused whole, and no error repeats its text")
    func containerListIsChecked() throws {
        let id = String(repeating: "c", count: 64)
        func entry(_ id: String = id, names: String = #"["/web1"]"#, networks: String = #"{"bridge":{"IPAddress":"172.17.0.2"}}"#) -> String {
            #"{"Id":"\#(id)","Names":\#(names),"Image":"x","NetworkSettings":{"Networks":\#(networks)}}"#
        }
        let body = "[" + entry() + "," + entry(names: #"["/db","/web1/db"]"#, networks: #"{"none":{"IPAddress":""}}"#) + "]"
        let good = try DockerContainerAddress.parse(containersJSON: Array(body.utf8)).get()
        #expect(good == [.init(id: id, name: "web1", addresses: ["172.17.0.2"]), .init(id: id, name: "db", addresses: [])])
        #expect(try DockerContainerAddress.parse(containersJSON: Array("[]".utf8)).get().isEmpty)
        for bad in ["[" + entry(names: #"["/we\u001b[2Jb"]"#) + "]", "[" + entry(names: #"["web1"]"#) + "]", "[" + entry("xyz") + "]",
                    "[" + entry(networks: #"{"bridge":{"IPAddress":"172.17.0.256"}}"#) + "]", "[" + entry(names: #"["/-web"]"#) + "]",
                    "[" + entry(names: #"["/a/b"]"#) + "]", "[" + entry(networks: #"{"bridge":{"IPAddress":"1.2.3.4\u001b[2J"}}"#) + "]",
                    "{\"message\":\"\u{1b}[2J\"}", "[" + entry(networks: #"{"bridge":{}}"#) + "]", "\u{1b}[2J not json"] {
            guard case .failure(let error) = DockerContainerAddress.parse(containersJSON: Array(bad.utf8)) else {
                Issue.record("taken: \(bad)")
                continue
            }
            #expect(!error.description.contains("\u{1b}"), "\(error)")
        }
        let many = "[" + Array(repeating: entry(), count: DockerContainerAddress.containerLimit + 1).joined(separator: ",") + "]"
        #expect((try? DockerContainerAddress.parse(containersJSON: Array(many.utf8)).get()) == nil)
    }

    @Test("the joined view: a published port names its container and has no -p to give; a live one to the container's address gives the -p that keeps it")
    func joinedView() {
        let proxies = [Self.proxy(10, parent: 5, .rootlessKitProxy, host: "127.0.0.1", port: 18700)]
        let published = RootlessKitPort(id: 1, spec: RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.1", parentPort: 18700, childIP: "127.0.0.1", childPort: 18700))
        let live = RootlessKitPort(id: 2, spec: RootlessKitPortSpec(proto: "tcp", parentIP: "127.0.0.1", parentPort: 18701, childIP: "172.17.0.2", childPort: 80))
        let bare = RootlessKitPort(id: 3, spec: RootlessKitPortSpec(proto: "udp", parentPort: 18702, childPort: 53))
        let view = RootlessKitForward.join([published, live, bare], facts: DockerFacts(proxies: proxies, containers: [Self.web]))
        #expect(view.map(\.origin) == [.published, .live, .live])
        #expect(view[0].container == .init(name: "web1", address: "172.17.0.2", port: 80, proxyPID: 10) && view[0].publishArgument == nil)
        #expect(view[1].container == .init(name: "web1", address: "172.17.0.2", port: 80, proxyPID: nil))
        #expect(view[1].publishArgument == "127.0.0.1:18701:80")
        #expect(view[2].container == nil && view[2].publishArgument == nil)
        // Without Docker facts nothing is claimed: the published port is not called the container's, nor live.
        let unread = RootlessKitForward.join([published], facts: DockerFacts(attributionProblem: "Docker's proxies were not read"))
        #expect(unread.first?.container == nil && unread.first?.origin == .unknown)
    }

    @Test("a Docker port is called live only when every proxy was read: with a proxy refused, the child unknown, Docker unread or two proxies claiming it, ORIGIN says unknown and why")
    func unattributedPortIsUnknownNotLive() {
        let proxies = [Self.proxy(10, parent: 5, .rootlessKitProxy, host: "127.0.0.1", port: 18700)]
        let published = RootlessKitPort(id: 1, spec: RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.1", parentPort: 18700, childIP: "127.0.0.1", childPort: 18700))
        let other = RootlessKitPort(id: 2, spec: RootlessKitPortSpec(proto: "tcp4", parentIP: "127.0.0.1", parentPort: 18705, childIP: "127.0.0.1", childPort: 18705))
        // A proxy whose command line was refused may be the one that registered port 2.
        let refused = DockerFacts(proxies: proxies, containers: [Self.web], attributionProblem: "rootlesskit-docker-proxy (PID 12): not dockerd's form")
        let view = RootlessKitForward.join([published, other], facts: refused)
        #expect(view.map(\.origin) == [.published, .unknown])
        #expect(view[1].originProblem?.contains("PID 12") == true && view[1].publishArgument == nil)
        // The daemon not answering names no container, but the proxies still tell published from live.
        let unnamed = RootlessKitForward.join([published, other], facts: DockerFacts(proxies: proxies, namingProblem: "the daemon timed out"))
        #expect(unnamed.map(\.origin) == [.published, .live])
        // Two proxies for one host port: neither is guessed, and it is not live either.
        let two = proxies + [Self.proxy(12, parent: 5, .rootlessKitProxy, host: "127.0.0.1", port: 18700, container: "172.17.0.3")]
        let claimed = RootlessKitForward.join([published], facts: DockerFacts(proxies: two))
        #expect(claimed.first?.origin == .unknown && claimed.first?.originProblem?.contains("10, 12") == true)
        // What runs under RootlessKit unknown: not told Docker's from live.
        let kit = RootlessKitParent(pid: 5, uid: 1008, user: "u", portDriver: "builtin", stateDir: nil, stateDirSource: nil, apiSocket: nil,
                                    apiSocketListening: false, child: nil, dockerSocket: nil, log: "", problems: [:])
        #expect(RootlessKitForward.join([other], facts: DockerFacts.unread(kit)).first?.origin == .unknown)
        #expect(RootlessKitForward.join([other], facts: DockerFacts.of(kit)).first?.origin == .unknown)
    }
}
