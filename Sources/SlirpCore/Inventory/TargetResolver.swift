/// Turns an operator's TARGET (a PID, a container ID or a unique ID prefix) into one instance.
public enum TargetResolver {
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case notFound(target: String, known: [String])
        case ambiguous(target: String, candidates: [String])

        public var description: String {
            switch self {
            case .notFound(let target, let known):
                known.isEmpty
                    ? "no slirp4netns instance matches \(goQuoted(target)): none is running (try `slirpmon demo`)"
                    : "no slirp4netns instance matches \(goQuoted(target)); running: \(known.joined(separator: ", "))"
            case .ambiguous(let target, let candidates):
                "\(goQuoted(target)) matches several instances, give more of the ID: \(candidates.joined(separator: ", "))"
            }
        }
    }

    /// Finds the process `target` names among `processes`.
    public static func resolve(_ target: String, among processes: [SlirpProcess]) throws(Failure) -> SlirpProcess {
        let trimmed = target.trimmingSpaces
        if let pid = Int32(trimmed), let match = processes.first(where: { $0.pid == pid }) { return match }
        let lower = trimmed.lowercased()
        if !lower.isEmpty, lower.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) {
            let matches = processes.filter { $0.containerID?.hasPrefix(lower) ?? false }
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 {
                throw .ambiguous(target: target, candidates: matches.map { "\($0.containerID!.prefix(12)) (pid \($0.pid))" })
            }
        }
        throw .notFound(target: target, known: processes.map { p in p.containerID.map { "\($0.prefix(12)) (pid \(p.pid))" } ?? "pid \(p.pid)" })
    }
}
