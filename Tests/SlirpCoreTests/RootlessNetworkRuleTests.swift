import Testing
@testable import SlirpCore

/// The rules that make a slirp4netns a user's rootless network and pick its containers. The
/// Podman 4 layout is also run for real (`RootlessNetworkTests`); Podman 5 is not installed
/// here, so its layout (from containers/common `libnetwork/internal/rootlessnetns`) is checked here only.
@Suite("Recognising a rootless user's shared Podman network")
struct RootlessNetworkRuleTests {
    @Test("Podman 4's and Podman 5's rootless network namespace paths are recognised, and nothing else")
    func layouts() {
        #expect(RootlessNetwork.layout(netnsPath: "/run/user/1007/netns/rootless-netns-50cd2522c73678a86e7b") == .podman4)
        #expect(RootlessNetwork.layout(netnsPath: "/run/user/1007/containers/networks/rootless-netns/rootless-netns") == .podman5)
        // A container's own namespace (slirp4netns mode), a hand-made one, and near misses.
        for path in ["/run/user/1007/netns/netns-3db29f22-0e03-61d0-a0ba-dafc73dd3261", "/run/netns/t1",
                     "/tmp/rootless-netns-x", "rootless-netns/rootless-netns", "/run/user/1/rootless-netns"] {
            #expect(RootlessNetwork.layout(netnsPath: path) == nil, "\(path)")
        }
        #expect(RootlessNetwork.layout(netnsPath: nil) == nil)
    }

    static func container(_ id: String, uid: UInt32, mode: String, state: String = "running", networks: [PodmanNetworkAttachment]) -> PodmanContainer {
        PodmanContainer(id: id, name: "c-\(id)", image: "i", state: state, pid: 100, podID: nil, podName: nil, isInfra: false, ports: [],
                        createCommand: [], networkMode: mode, ownerUID: uid, ownerName: nil, networks: networks)
    }

    @Test("only the running containers of the network's own user on a Podman network (and those sharing theirs) are attached; another user's never")
    func attachedContainers() {
        let net = [PodmanNetworkAttachment(network: "n1", address: "10.89.0.2/24", gateway: "10.89.0.1/24")]
        let containers = [
            Self.container("a", uid: 1007, mode: "bridge", networks: net),
            Self.container("b", uid: 1007, mode: "container:a", networks: []),
            Self.container("c", uid: 1007, mode: "slirp4netns", networks: []),
            Self.container("d", uid: 1007, mode: "bridge", state: "exited", networks: net),
            Self.container("e", uid: 1008, mode: "bridge", networks: net),
        ]
        #expect(RootlessNetwork.attached(containers, uid: 1007).map(\.id) == ["a", "b"])
        #expect(RootlessNetwork.attached(containers, uid: 1008).map(\.id) == ["e"])
        #expect(RootlessNetwork.attached(containers, uid: 1009).isEmpty)
    }

    @Test("a container's place on each Podman network is read from inspect's NetworkSettings.Networks, an empty address kept unknown")
    func networksFromInspect() throws {
        let json = try JSONValue.parse(Array(#"{"n2":{"IPAddress":"","IPPrefixLen":0,"Gateway":""},"n1":{"IPAddress":"10.89.0.2","IPPrefixLen":24,"Gateway":"10.89.0.1"}}"#.utf8))
        #expect(PodmanCLI.networks(json) == [PodmanNetworkAttachment(network: "n1", address: "10.89.0.2/24", gateway: "10.89.0.1/24"),
                                             PodmanNetworkAttachment(network: "n2", address: nil, gateway: nil)])
        #expect(PodmanCLI.networks(nil).isEmpty)
    }
}
