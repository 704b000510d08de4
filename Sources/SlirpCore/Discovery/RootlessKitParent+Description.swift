extension RootlessKitParent {
    /// The words for what runs under it: "Docker rootless (dockerd pid N)", ..., or the command.
    public var runsWords: String {
        guard let child else { return "unknown (its child was not found)" }
        let command = child.command.joined(separator: " ")
        switch child.kind {
        case .docker: return "Docker rootless (dockerd pid \(child.commandPID.map(String.init) ?? "?")\(dockerSocket.map { ", socket \($0)" } ?? ""))"
        case .containerd: return "containerd rootless (containerd pid \(child.commandPID.map(String.init) ?? "?"))"
        case .command: return command.isEmpty ? "nothing yet (child pid \(child.pid))" : "\(command) (pid \(child.commandPID.map(String.init) ?? String(child.pid)))"
        }
    }

    /// Labelled lines for `show` and the monitor's details (labels up to 10 characters).
    public var describedLines: [(label: String, text: String)] {
        var lines: [(String, String)] = [
            ("rootlesskit", "pid \(pid), user \(user ?? uid.map { "uid \($0)" } ?? "?"), port driver \(portDriver)"),
            ("runs", runsWords + (child.map { " under the rootlesskit child pid \($0.pid)" } ?? "")),
        ]
        let stateSource: String
        switch stateDirSource {
        case .commandLine: stateSource = "its --state-dir"
        case .childEnvironment: stateSource = "the child's ROOTLESSKIT_STATE_DIR"
        case .openFiles: stateSource = "the lock file rootlesskit holds open"
        case nil: stateSource = ""
        }
        lines.append(("state dir", stateDir.map { "\($0) (from \(stateSource))" } ?? "unknown: \(problems["state_dir"] ?? "")"))
        if let apiSocket {
            lines.append(("rk API", "\(apiSocket) — " + (apiSocketListening ? "listening, held by rootlesskit \(pid)"
                : apiSocketUncheckable.map { "cannot check whether rootlesskit \(pid) holds it: \($0)" } ?? "not listening, or not held by rootlesskit \(pid)")))
        }
        lines.append(("output", log))
        return lines
    }
}
