import SlirpCore
@testable import SlirpTUI

/// Fixture instances and states, built from values (no live process), rendered deterministically.
enum Fixtures {
    static let web = ProcessIdentity(pid: 4242, startTicks: 1000)
    static let custom = ProcessIdentity(pid: 4243, startTicks: 1001)
    static let noapi = ProcessIdentity(pid: 4244, startTicks: 1002)
    static let podman = ProcessIdentity(pid: 812, startTicks: 50)

    static func webSnapshot() -> InstanceSnapshot {
        InstanceSnapshot(
            identity: web, uptimeSeconds: 3725, residentBytes: 3 << 20, mtu: 65520,
            netnsPath: "/run/netns/lab-web", apiSocket: "/tmp/lab/lab-web.sock", socketStatus: .held,
            socketDescription: "listening, held by the process", logPath: "/tmp/lab/slirp4netns-lab-web.log", logDeleted: true,
            options: [
                OptionLine(option: "--configure", meaning: "brings up tap0 with the guest address, route and DNS"),
                OptionLine(option: "--mtu=65520", meaning: "MTU 65520 on tap0 (slirp4netns default 1500, max 65521)"),
                OptionLine(option: "--disable-host-loopback", meaning: "the guest cannot reach the host's 127.0.0.1 through the gateway"),
                OptionLine(option: "--api-socket=/tmp/lab/lab-web.sock", meaning: "listens for add_hostfwd / list_hostfwd / remove_hostfwd on this unix socket"),
                OptionLine(option: "--netns-type=path", meaning: "the target is a network namespace file, not a PID"),
                OptionLine(option: "/run/netns/lab-web", meaning: "network namespace file"),
                OptionLine(option: "tap0", meaning: "tap device name"),
            ],
            addressChecks: [
                AddressCheck(role: "guest", expected: "10.0.2.100/24", observed: "10.0.2.100/24", status: .match),
                AddressCheck(role: "gateway", expected: "10.0.2.2", observed: "10.0.2.2", status: .match),
                AddressCheck(role: "dns", expected: "10.0.2.3", observed: nil, status: .notObserved, note: "virtual address inside slirp4netns"),
                AddressCheck(role: "mtu", expected: "65520", observed: "65520", status: .match),
            ])
    }

    static func customSnapshot() -> InstanceSnapshot {
        InstanceSnapshot(
            identity: custom, containerID: "3f2a9c0d1e7b44aa90c1d2e3f4a5b6c7d8e9f00112233445566778899aabbccd",
            uptimeSeconds: 59, residentBytes: 2 << 20, cidr: "10.99.128.0/17", mtu: 1500, ipv6: true,
            guest: "10.99.128.100", gateway: "10.99.128.2", dns: "10.99.128.3",
            netnsPath: "/run/netns/netns-5d0c", apiSocket: "/run/libpod/3f2a9c0d1e7b.net", socketStatus: .notHeld,
            socketDescription: "not held by this process: the path was replaced or the socket closed",
            logPath: "/run/libpod/slirp4netns-3f2a9c0d1e7b.log", logDeleted: true,
            options: [OptionLine(option: "--cidr=10.99.128.0/17", meaning: "guest network 10.99.128.0/17 instead of 10.0.2.0/24")],
            addressChecks: [
                AddressCheck(role: "guest", expected: "10.99.128.100/17", observed: "10.0.2.100/24", status: .mismatch, note: "the tap has other addresses"),
                AddressCheck(role: "gateway", expected: "10.99.128.2", observed: "10.0.2.2", status: .mismatch),
                AddressCheck(role: "guest6", expected: "fd00::/64 (SLAAC)", observed: "fd00::a0b1:c2ff:fed3:e4f5/64", status: .match),
            ],
            forwardBlocker: "API socket /run/libpod/3f2a9c0d1e7b.net is not held by this process: the path was replaced or the socket closed")
    }

    static func noapiSnapshot() -> InstanceSnapshot {
        InstanceSnapshot(
            identity: noapi, state: "Z", isZombie: true, uptimeSeconds: 90061, residentBytes: 0,
            netnsPath: "/proc/4200/ns/net", logError: "the process is defunct: its log closed with it",
            forwardBlocker: "the process is defunct (zombie): it has exited")
    }

    static let webForwards = [
        HostForward(id: 1, proto: .tcp, hostAddr: "127.0.0.1", hostPort: 18080, guestAddr: "10.0.2.100", guestPort: 80),
        HostForward(id: 2, proto: .udp, hostAddr: "0.0.0.0", hostPort: 5353, guestAddr: "10.0.2.100", guestPort: 53),
    ]

    static let logLines = [
        "sent tapfd=7 for tap0",
        "received tapfd=7",
        "Starting slirp",
        "* MTU:             65520",
        "* Network:         10.0.2.0",
        "* Netmask:         255.255.255.0",
        "* Gateway:         10.0.2.2",
        "* DNS:             10.0.2.3",
        "* Recommended IP:  10.0.2.100",
        "WARNING: 127.0.0.1:* on the host is inaccessible because --disable-host-loopback is set",
        "apifd event",
        #"api_handler: got request: {"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"127.0.0.1","host_port":18080,"guest_port":80}}"#,
        "apifd event",
        #"api_handler: got request: {"execute":"list_hostfwd"}"#,
    ]

    /// A loaded state with three instances, the web one selected.
    static func state(readOnly: Bool = false, size: Size = Size(width: 80, height: 24)) -> AppState {
        var state = AppState(readOnly: readOnly, banner: "demo", delay: 1, useColor: true,
                             host: HostInfo(hostName: "testhost", userName: "root", slirpVersion: "1.2.0", features: ["mtu", "cidr", "ipv6"]))
        state.size = size
        _ = state.apply(.inventory([webSnapshot(), customSnapshot(), noapiSnapshot()], error: nil, clock: "12:34:56"))
        return state
    }

    /// The whole screen, as text, of a monitor loaded with `snapshots` (the first selected).
    static func screenText(_ snapshots: [InstanceSnapshot], size: Size) -> String {
        var state = AppState(readOnly: false, banner: "demo", delay: 1, useColor: true,
                             host: HostInfo(hostName: "testhost", userName: "root", slirpVersion: "1.2.0", features: []))
        state.size = size
        _ = state.apply(.inventory(snapshots, error: nil, clock: "12:34:56"))
        let screen = render(state, size: size)
        return (0..<size.height).map { screen.text(row: $0) }.joined(separator: "\n")
    }
}

extension AppState {
    /// Feeds keys in order; returns every effect they asked for.
    @discardableResult
    mutating func press(_ keys: Key...) -> [Effect] {
        var effects: [Effect] = []
        for key in keys { effects += handle(key).effects }
        return effects
    }

    mutating func type(_ text: String) {
        for character in text { _ = handle(.character(character)) }
    }
}
