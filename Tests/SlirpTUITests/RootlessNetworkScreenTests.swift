@testable import SlirpCore
import Testing
@testable import SlirpTUI

/// The monitor names a rootless user's shared Podman network and lists what is on it.
@Suite struct RootlessNetworkScreenTests {
    @Test("a rootless network's row is named rootless-netns:USER, and its details list the bridge and each container with its address, port and rootlessport")
    func rootlessNetworkRowAndDetails() {
        let attachment = PodmanNetworkAttachment(network: "net1", address: "10.89.0.2/24", gateway: "10.89.0.1/24")
        let web = PodmanContainer(id: String(repeating: "ab", count: 32), name: "web1", image: "localhost/bb", state: "running", pid: 900,
                                  podID: nil, podName: nil, isInfra: false,
                                  ports: [PodmanPort(hostIP: "127.0.0.1", hostPort: 18800, containerPort: 80, range: 1, proto: "tcp")],
                                  createCommand: [], networkMode: "bridge", ownerUID: 1002, ownerName: "alice", networks: [attachment])
        var network = RootlessNetwork(layout: .podman4, ownerUID: 1002, ownerName: "alice", containers: [web])
        network.carriers[web.id] = [901, 902]
        network.interfaces = [NamespaceInterfaces.Interface(name: "cni-podman1", ipv4: ["10.89.0.1/24"])]
        var snapshot = InstanceSnapshot(identity: ProcessIdentity(pid: 777, startTicks: 5), uptimeSeconds: 60, residentBytes: 1 << 20, mtu: 65520,
                                        netnsPath: "/run/user/1002/netns/rootless-netns-50cd2522c73678a86e7b")
        snapshot.rootlessNetwork = network
        let size = Size(width: 120, height: 40)
        var state = AppState(readOnly: false, banner: "demo", delay: 1, useColor: true,
                             host: HostInfo(hostName: "testhost", userName: "root", slirpVersion: "1.2.0", features: []))
        state.size = size
        _ = state.apply(.inventory([snapshot], error: nil, clock: "12:34:56"))
        let screen = render(state, size: size)
        let text = (0..<size.height).map { screen.text(row: $0) }.joined(separator: "\n")
        #expect(text.contains("rootless-netns:alice"), "\(text)")
        #expect(!text.contains("manual"), "\(text)")
        #expect(text.contains("net1 cni-podman1 10.89.0.1/24"), "\(text)")
        #expect(text.contains("web1 (ababababab") && text.contains("net1 10.89.0.2/24") && text.contains("-p 127.0.0.1:18800:80/tcp"), "\(text)")
        #expect(text.contains("carried by rootlessport processes") && text.contains("901, 902"), "\(text)")
    }
}
