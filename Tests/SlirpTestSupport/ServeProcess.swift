import Foundation
import Glibc
import SlirpCore

/// `slirpmon serve` started as an operator starts it (the slirpmon binary, which execs
/// slirpmon-serve beside it), on 127.0.0.1 at a port the kernel picks (port 0; the one bound is
/// read from its "serving" line); stopped by its PID.
public final class ServeProcess {
    public let pid: pid_t
    public let port: Int
    private let stderrPath: String
    private var exitStatus: Int32?

    /// `keptIn`: a private directory bound over /run/slirpmon for it alone (`privateSlirpmonState`),
    /// so that parallel suites neither see nor change its kept facts.
    /// `binding`: files bound over others for it alone (with `keptIn` only; see `privateSlirpmonState`).
    public init(_ extra: [String] = [], listen: String = "127.0.0.1:0", keptIn kept: String? = nil,
                binding: [(source: String, target: String)] = []) throws {
        stderrPath = "/tmp/slirpmon-serve-\(getpid())-\(UInt32.random(in: 0..<1_000_000)).err"
        let fd = open(stderrPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LabSetupError("cannot create \(stderrPath)") }
        defer { close(fd) }
        let command = [slirpmonBinary, "serve", "--listen", listen] + extra
        // unshare and sh exec what follows: the PID stays the one of slirpmon, then of slirpmon-serve.
        let (program, arguments) = kept.map { ("/usr/bin/unshare", privateSlirpmonState($0, command, binding: binding)) } ?? (slirpmonBinary, Array(command.dropFirst()))
        guard case .success(let pid) = Executables.spawn(program, arguments, descriptors: [2: fd]) else {
            throw LabSetupError("cannot start \(slirpmonBinary) serve")
        }
        self.pid = pid
        let deadline = Deadline.after(seconds: 20)
        while !deadline.hasPassed {
            let text = (try? Files.readText(stderrPath)) ?? ""
            if let range = text.range(of: "serving http://"), let end = text[range.upperBound...].range(of: "/metrics") {
                let address = text[range.upperBound..<end.lowerBound]
                if let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) {
                    self.port = port
                    return
                }
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { throw LabSetupError("slirpmon serve exited at start: \(text)") }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        Executables.waitFor(pid)
        throw LabSetupError("slirpmon serve printed no serving line in 20 s: \((try? Files.readText(stderrPath)) ?? "")")
    }

    /// What it wrote on stderr so far.
    public var stderr: String { (try? Files.readText(stderrPath)) ?? "" }

    /// Sends `signal` and waits up to `seconds` for the exit: its status (nil if still running).
    public func stop(_ signal: Int32 = SIGTERM, seconds: Double = 15) -> Int32? {
        if let exitStatus { return exitStatus }
        kill(pid, signal)
        let deadline = Deadline.after(seconds: seconds)
        var status: Int32 = 0
        while !deadline.hasPassed {
            if waitpid(pid, &status, WNOHANG) == pid {
                exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                return exitStatus
            }
            usleep(20_000)
        }
        return nil
    }

    deinit {
        if exitStatus == nil, stop(SIGTERM, seconds: 10) == nil {
            kill(pid, SIGKILL)
            Executables.waitFor(pid)
        }
        unlink(stderrPath)
    }
}
