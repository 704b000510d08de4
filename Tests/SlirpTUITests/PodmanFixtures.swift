@testable import SlirpCore
@testable import SlirpTUI

/// Podman containers, pods, a rootlesskit instance, a failed start and a doctor report, as values.
enum PodmanFixtures {
    static let web = ProcessIdentity(pid: 5101, startTicks: 2000)
    static let pod = ProcessIdentity(pid: 5102, startTicks: 2001)
    static let rootless = ProcessIdentity(pid: 5103, startTicks: 2002)
    static let webID = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
    static let podInfraID = "b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1"
    static let apiID = "c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2"
    static let brokenID = "d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3"
    static var broken: ProcessIdentity { DetachedRow.identity(containerID: brokenID) }

    static func container(id: String, name: String, state: String = "running", podID: String? = nil, podName: String? = nil,
                          isInfra: Bool = false, ports: [PodmanPort] = [], network: String, owner: (UInt32, String) = (0, "root"),
                          command: [String] = ["httpd", "-f", "-p", "80", "-h", "/www"]) -> PodmanContainer {
        var create = ["podman", "run", "-d", "--name", name, "--network", network]
        for port in ports { create += ["-p", port.flag] }
        create += ["localhost/slirpmon-bb"] + command
        return PodmanContainer(id: id, name: name, image: "localhost/slirpmon-bb:latest", state: state, pid: state == "running" ? 7000 : 0,
                               podID: podID, podName: podName, isInfra: isInfra, ports: ports, createCommand: create,
                               networkMode: "slirp4netns", ownerUID: owner.0, ownerName: owner.1)
    }

    static func webSnapshot() -> InstanceSnapshot {
        var s = InstanceSnapshot(
            identity: web, containerID: webID, uptimeSeconds: 600, residentBytes: 4 << 20, mtu: 65520, ipv6: true,
            netnsPath: "/run/netns/netns-6c1f0e2a", apiSocket: "/run/libpod/\(webID).net", socketStatus: .held,
            socketDescription: "listening, held by the process", logPath: "/run/libpod/slirp4netns-\(webID).log", logDeleted: true,
            options: [OptionLine(option: "--mtu=65520", meaning: "MTU 65520 on tap0 (slirp4netns default 1500, max 65521)")],
            addressChecks: [AddressCheck(role: "guest", expected: "10.0.2.100/24", observed: "10.0.2.100/24", status: .match)])
        s.container = container(id: webID, name: "web1", ports: [PodmanPort(hostIP: "127.0.0.1", hostPort: 18081, containerPort: 80, range: 1, proto: "tcp")],
                                network: "slirp4netns:port_handler=slirp4netns,enable_ipv6=true")
        return s
    }

    static func podSnapshot() -> InstanceSnapshot {
        var s = InstanceSnapshot(
            identity: pod, containerID: podInfraID, uptimeSeconds: 7200, residentBytes: 3 << 20, mtu: 65520,
            netnsPath: "/run/netns/netns-7d2e1f3b", apiSocket: "/run/libpod/\(podInfraID).net", socketStatus: .missing,
            socketDescription: "missing: no file at the path", logPath: "/run/libpod/slirp4netns-\(podInfraID).log", logDeleted: true,
            forwardBlocker: "API socket /run/libpod/\(podInfraID).net is missing: no file at the path")
        s.container = container(id: podInfraID, name: "7d2e1f3b-infra", podID: "p1", podName: "shop", isInfra: true,
                                ports: [PodmanPort(hostIP: "", hostPort: 8080, containerPort: 80, range: 2, proto: "tcp")],
                                network: "slirp4netns:port_handler=slirp4netns", command: [])
        s.container?.createCommand = ["podman", "pod", "create", "--name", "shop", "--network", "slirp4netns:port_handler=slirp4netns", "-p", "8080-8081:80-81"]
        s.podMembers = [
            container(id: "e1" + String(repeating: "0", count: 62), name: "shop-web", podID: "p1", podName: "shop", network: "container:\(podInfraID)"),
            container(id: "e2" + String(repeating: "0", count: 62), name: "shop-db", state: "exited", podID: "p1", podName: "shop", network: "container:\(podInfraID)"),
        ]
        s.findings = [Finding(check: "api-socket", severity: .failure,
                              message: "API socket /run/libpod/\(podInfraID).net is missing: port forwards cannot be added or listed",
                              cause: FailureCause(.unknown, cause: "the socket file was removed",
                                                  fix: "restart the container to get a new socket; exclude Podman's tmp_dir from tmp cleaners"))]
        return s
    }

    static func rootlessSnapshot() -> InstanceSnapshot {
        var s = InstanceSnapshot(
            identity: rootless, containerID: apiID, user: "alice", uptimeSeconds: 95, residentBytes: 2 << 20, mtu: 65520,
            netnsPath: "/run/user/1000/netns/netns-8e3f", logPath: "/run/user/1000/libpod/tmp/slirp4netns-\(apiID).log", logDeleted: true,
            forwardBlocker: "no API socket: the instance was started without --api-socket (Podman adds one only with port_handler=slirp4netns and at least one -p)")
        s.container = container(id: apiID, name: "api", ports: [PodmanPort(hostIP: "", hostPort: 9000, containerPort: 9000, range: 1, proto: "tcp")],
                                network: "slirp4netns", owner: (1000, "alice"))
        s.rootlessPorts = [
            RootlessPortProcess(pid: 5201, parentPID: 1, uid: 1000, isChild: false, netnsPaths: ["/run/user/1000/netns/netns-8e3f"], netNamespace: "net:[4026532001]"),
            RootlessPortProcess(pid: 5210, parentPID: 5201, uid: 1000, isChild: true, netnsPaths: [], netNamespace: "net:[4026532300]"),
        ]
        return s
    }

    static func brokenContainer() -> DetachedContainer {
        DetachedContainer(container: container(id: brokenID, name: "broken", state: "created",
                                               ports: [PodmanPort(hostIP: "127.0.0.1", hostPort: 18099, containerPort: 80, range: 1, proto: "tcp")],
                                               network: "slirp4netns:port_handler=slirp4netns,mtu=65530"),
                          members: [])
    }

    static let webForwards = [
        HostForward(id: 1, proto: .tcp, hostAddr: "127.0.0.1", hostPort: 18081, guestAddr: "10.0.2.100", guestPort: 80),
        HostForward(id: 2, proto: .tcp, hostAddr: "127.0.0.1", hostPort: 18090, guestAddr: "10.0.2.100", guestPort: 80),
    ]

    /// A loaded state: three container instances and one failed start; web1 selected.
    static func state(readOnly: Bool = false, size: Size = Size(width: 80, height: 24), podman: PodmanStatus = PodmanStatus(installed: true)) -> AppState {
        var state = AppState(readOnly: readOnly, delay: 1, useColor: true,
                             host: HostInfo(hostName: "testhost", userName: "root", slirpVersion: "1.2.0", features: ["mtu", "cidr", "ipv6"]))
        state.size = size
        _ = state.apply(.inventory([webSnapshot(), podSnapshot(), rootlessSnapshot(), InstanceSnapshot(brokenContainer())],
                                   podman: podman, error: nil, clock: "12:34:56"))
        return state
    }

    /// The doctor's report for `broken`: the trial fails on the MTU.
    static func doctorReport() -> DoctorReport {
        let cause = FailureCause(.mtuTooLarge, cause: "slirp4netns refuses MTUs above 65521 (MTU must be a positive integer (< 65522))",
                                 fix: "use mtu=65520 (Podman's default) or lower: --network slirp4netns:mtu=65520",
                                 evidence: "MTU must be a positive integer (< 65522)")
        let steps = [
            DoctorStep(name: "binary", title: "slirp4netns binary", details: ["containers.conf: /tmp/slirpmon-podman-fixture/containers.conf", "/usr/bin/slirp4netns (found in PATH)", "version 1.2.0"]),
            DoctorStep(name: "options", title: "options, parsed as Podman does", status: .warning,
                       details: ["containers.conf network_cmd_options: none", "container's options: port_handler=slirp4netns,mtu=65530",
                                 "effective: mtu=65530, cidr=10.0.2.0/24 (default), enable_ipv6=true, port_handler=slirp4netns, allow_host_loopback=false",
                                 "mtu=65530: Podman accepts it, slirp4netns refuses MTUs above 65521"]),
            DoctorStep(name: "features", title: "features from --help, and Podman's argument list",
                       details: ["supported: mtu, cidr, ipv6, api-socket, netns-type, sandbox, seccomp"]),
            DoctorStep(name: "trial", title: "a real start in a scratch network namespace", status: .failed,
                       details: ["namespace slirpmon-doctor-4242-1; log and socket in /tmp/slirpmon-doctor-4242",
                                 "slirp4netns exited with status 1 before it was ready (Podman: \"/usr/bin/slirp4netns failed: <log>\")"], cause: cause),
            DoctorStep(name: "host", title: "/dev/net/tun, user namespaces, API socket path, tmp_dir, outbound addresses",
                       details: ["/dev/net/tun: crw-rw-rw-, openable"]),
        ]
        let subject = DoctorReport.Subject(container: "broken", containerID: brokenID, options: ["port_handler=slirp4netns", "mtu=65530"],
                                           engineOptions: [], portMappings: 1, mode: "root", containersConf: [])
        let log = "MTU must be a positive integer (< 65522)\nUsage: /usr/bin/slirp4netns [OPTION]... PID|PATH [TAPNAME]\nUser-mode networking for unprivileged network namespaces.\n\n-c, --configure          bring up the interface\n-e, --exit-fd=FD         specify the FD for terminating slirp4netns\n"
        return DoctorReport(subject: subject, steps: steps, log: log, arguments: nil, binary: "/usr/bin/slirp4netns")
    }
}
