import Foundation
import Glibc
import SlirpCore

extension TestLab {
    /// Starts an instance with a `sleep` in its namespace whose /etc/resolv.conf is `resolvConf`:
    /// written to `/etc/netns/NAME/resolv.conf` first, which `ip netns exec` binds over /etc's in
    /// the sleep's mount namespace. Returns the instance, the sleep's PID and that directory
    /// (the caller removes it).
    public func startWithResolvConf(_ name: String, resolvConf: String, ipv6: Bool = true) throws -> (SlirpLab.Instance, sleeper: Int32, etc: String) {
        let etc = "/etc/netns/\(lab.prefix)-\(name)"
        try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
        try SafeFiles.writeNew(Array(resolvConf.utf8), to: "\(etc)/resolv.conf", mode: 0o644)
        var spec = SlirpLab.Spec(name: name, ipv6: ipv6, apiSocket: false)
        spec.server = .init(command: ["sleep", "600"], ports: [])
        let instance = try start(spec)
        guard let sleeper = instance.serverPID,
              eventually(5, { (try? Files.readText("/proc/\(sleeper)/comm")) == "sleep\n" }) else {
            throw LabSetupError("ip netns exec did not start sleep in \(etc)'s namespace")
        }
        return (instance, sleeper, etc)
    }
}
