import Foundation
import Glibc
import SlirpCore

/// Real Podman for tests: a containers.conf that works on this kernel, a busybox image
/// built from busybox-static (no registry), and a rootless user.
public enum PodmanFixture {
    public static let directory = "/tmp/slirpmon-podman-fixture"
    public static let image = "localhost/slirpmon-bb"
    public static let rootlessUser = "slirpmon-rl"
    public static let containersConf = """
        [containers]
        default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
        [engine]
        runtime = "runc"
        cgroup_manager = "cgroupfs"
        events_logger = "file"

        """

    public static var available: Bool { isRoot && Executables.find("podman") != nil && Files.exists("/bin/busybox") }

    /// Writes the conf, points this process (and so every podman and slirpmon it runs) at it, imports the image.
    public static func prepare() throws {
        try withLock {
            mkdir(directory, 0o755)
            try Files.write(containersConf, to: "\(directory)/containers.conf")
            setenv("CONTAINERS_CONF", "\(directory)/containers.conf", 1)
            if podman(["image", "exists", image]).status != 0 {
                try buildImageTar()
                let out = podman(["import", "\(directory)/bb.tar", image])
                guard out.status == 0 else { throw LabSetupError("podman import failed: \(out.stderr)") }
            }
        }
    }

    /// Runs podman as root, or as `user` (with that user's environment).
    @discardableResult
    public static func podman(_ args: [String], user: (name: String, uid: UInt32)? = nil, timeout: Double = 60) -> Executables.Output {
        guard let podman = Executables.find("podman") else { return Executables.Output(status: 127, stdout: "", stderr: "podman not installed") }
        if let user {
            return sh("runuser", ["-u", user.name, "--", "env", "HOME=/home/\(user.name)", "XDG_RUNTIME_DIR=/run/user/\(user.uid)",
                                  "PATH=/usr/bin:/bin:/usr/sbin:/sbin", podman] + args, timeout: timeout)
        }
        return sh(podman, args, timeout: timeout)
    }

    /// A user with subuids, a runtime dir, the conf and the image: rootless Podman works for it.
    /// slirp4netns as a user needs /dev/net/tun 0666 (Debian ships it 0600 on these machines).
    public static func prepareRootlessUser() throws -> (name: String, uid: UInt32) {
        try prepareRootlessUser(rootlessUser, subordinateStart: 300000)
    }

    /// The same for the user `name` (created when missing), with subordinate ids from
    /// `subordinateStart` (65536 of them: keep ranges of different users apart) and `engine`'s
    /// lines added to the `[engine]` table of the user's containers.conf.
    public static func prepareRootlessUser(_ name: String, subordinateStart: Int, engine: [String] = []) throws -> (name: String, uid: UInt32) {
        try prepare()
        return try withLock {
            if getpwnam(name) == nil {
                let out = sh("useradd", ["-m", "-s", "/bin/sh", name])
                guard out.status == 0 else { throw LabSetupError("useradd failed: \(out.stderr)") }
            }
            guard let entry = getpwnam(name) else { throw LabSetupError("no user \(name)") }
            let uid = entry.pointee.pw_uid
            let user = (name: name, uid: uid)
            for file in ["/etc/subuid", "/etc/subgid"] {
                let text = (try? Files.readText(file)) ?? ""
                if !text.split(separator: "\n").contains(where: { $0.hasPrefix("\(name):") }) {
                    let fd = open(file, O_WRONLY | O_APPEND | O_CREAT, 0o644)
                    let line = "\(name):\(subordinateStart):65536\n"
                    _ = line.withCString { write(fd, $0, strlen($0)) }
                    close(fd)
                }
            }
            mkdir("/run/user", 0o755)
            mkdir("/run/user/\(uid)", 0o700)
            chown("/run/user/\(uid)", uid, entry.pointee.pw_gid)
            let config = "/home/\(name)/.config/containers"
            sh("runuser", ["-u", name, "--", "mkdir", "-p", config])
            try Files.write(containersConf + engine.map { $0 + "\n" }.joined(), to: "\(config)/containers.conf")
            chown("\(config)/containers.conf", uid, entry.pointee.pw_gid)
            chmod("/dev/net/tun", 0o666)
            if podman(["image", "exists", image], user: user).status != 0 {
                try buildImageTar()
                chmod("\(directory)/bb.tar", 0o644)
                let out = podman(["import", "\(directory)/bb.tar", image], user: user)
                guard out.status == 0 else { throw LabSetupError("rootless podman import failed: \(out.stderr)") }
            }
            return user
        }
    }

    /// A root filesystem with busybox and its applets, as a tar.
    private static func buildImageTar() throws {
        let root = "\(directory)/rootfs"
        sh("rm", ["-rf", root])
        for dir in [root, "\(root)/bin", "\(root)/www", "\(root)/tmp"] { mkdir(dir, 0o755) }
        guard sh("cp", ["/bin/busybox", "\(root)/bin/busybox"]).status == 0 else { throw LabSetupError("cannot copy /bin/busybox (apt-get install busybox-static)") }
        for applet in ["sh", "httpd", "sleep", "cat", "ls", "echo", "nc", "wget"] { symlink("busybox", "\(root)/bin/\(applet)") }
        try Files.write("slirpmon-fixture\n", to: "\(root)/www/index.html")
        let out = sh("tar", ["-C", root, "-cf", "\(directory)/bb.tar", "."])
        guard out.status == 0 else { throw LabSetupError("tar failed: \(out.stderr)") }
    }

    /// Serializes fixture set-up across parallel tests (and test processes).
    private static func withLock<T>(_ body: () throws -> T) throws -> T {
        let fd = open("/tmp/slirpmon-podman-fixture.lock", O_RDWR | O_CREAT, 0o644)
        defer { close(fd) }
        flock(fd, LOCK_EX)
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// Runs busybox httpd as container `name` (of `user`, else root's) with an API socket
    /// (`port_handler=slirp4netns`) and `-p 127.0.0.1:PORT:80`.
    @discardableResult
    public static func runWebServer(_ name: String, port: Int, user: (name: String, uid: UInt32)? = nil) -> Executables.Output {
        podman(["run", "-d", "--name", name, "--network", "slirp4netns:port_handler=slirp4netns",
                "-p", "127.0.0.1:\(port):80", image, "httpd", "-f", "-p", "80", "-h", "/www"], user: user)
    }

    /// The live slirp4netns whose files name container `id`, once it runs; nil if none did within `seconds`.
    public static func slirp4netns(ofContainer id: String, within seconds: Double = 30) -> SlirpProcess? {
        var found: SlirpProcess?
        _ = eventually(seconds) {
            found = (try? ProcessScanner().scan())?.first { $0.containerID == id && !$0.isZombie }
            return found != nil
        }
        return found
    }

    /// A unique container name for one test.
    public static func name(_ base: String) -> String { "smt-\(base)-\(getpid())-\(UInt32.random(in: 0..<100000))" }

    /// Fetches a URL path from 127.0.0.1:port over plain HTTP/1.0; nil when nothing answers.
    public static func httpGet(port: Int, path: String = "/index.html") -> String? {
        tcpExchange(port: port, send: "GET \(path) HTTP/1.0\r\nHost: localhost\r\n\r\n", timeout: 5)
    }
}

/// A rootless user's busybox httpd container (`PodmanFixture.runWebServer`, port_handler=slirp4netns)
/// with a unique name and a free host port, removed when this goes.
public final class RootlessWebServer {
    public let user: (name: String, uid: UInt32)
    public let name: String
    public let id: String
    public let port: Int

    public init(_ base: String) throws {
        let user = try PodmanFixture.prepareRootlessUser()
        let name = PodmanFixture.name(base)
        let port = Int(try DemoFleet.freeTCPPort().value)
        let run = PodmanFixture.runWebServer(name, port: port, user: user)
        guard run.status == 0 else {
            PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user)
            throw LabSetupError("podman run \(name) as \(user.name) failed: \(run.stderr)")
        }
        (self.user, self.name, self.port) = (user, name, port)
        id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { PodmanFixture.podman(["rm", "-f", "-t", "0", name], user: user) }
}
