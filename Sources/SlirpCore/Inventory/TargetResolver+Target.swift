extension TargetResolver {
    /// A TARGET as the operator typed it: implicit (a PID, a container name, a container ID or unique
    /// ID prefix, a pod name: whichever it names), or explicit (`pid:N`, `name:NAME`, `id:PREFIX`,
    /// `pod:NAME`), which names that one kind and never falls back to another.
    ///
    /// No PID, container name, container ID or pod name contains a colon (Podman's names are
    /// `[a-zA-Z0-9][a-zA-Z0-9_.-]*`), so a colon always introduces an explicit form.
    public struct Target: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable {
            case pid, name, id, pod
        }

        /// As typed, without surrounding spaces.
        public let typed: String
        /// What follows `kind:`, or all of `typed` when implicit.
        public let value: String
        /// Nil when implicit.
        public let kind: Kind?

        /// Parses `typed`; an explicit form with nothing after the colon, a `pid:` that is not a
        /// positive number, an `id:` that is not hexadecimal or an unknown `kind:` is refused here,
        /// before anything is read.
        public init(parsing typed: String) throws(Failure) {
            let trimmed = typed.trimmingSpaces
            self.typed = trimmed
            guard let colon = trimmed.firstIndex(of: ":") else {
                (value, kind) = (trimmed, nil)
                return
            }
            let word = String(trimmed[..<colon]), rest = String(trimmed[trimmed.index(after: colon)...])
            guard let kind = Kind(rawValue: word) else {
                throw .invalidForm(target: trimmed, reason: "unknown form \(goQuoted(abbreviated(word + ":"))); \(Self.forms)")
            }
            (value, self.kind) = (rest, kind)
            switch kind {
            case _ where rest.isEmpty:
                throw .invalidForm(target: trimmed, reason: "nothing after \(kind.rawValue):; write \(kind.example)")
            case .pid where Self.positivePID(rest) == nil:
                throw .invalidForm(target: trimmed, reason: "a PID is a number from 1 to \(Int32.max) (digits only)")
            case .id where !isHex(rest.lowercased()):
                throw .invalidForm(target: trimmed, reason: "a container ID is hexadecimal (0-9, a-f)")
            default:
                break
            }
        }

        /// True when this target may name a thing of `kind`.
        func allows(_ kind: Kind) -> Bool { self.kind == nil || self.kind == kind }

        /// The PID this target names, when it may name one.
        var pid: Int32? { allows(.pid) ? Self.positivePID(value) : nil }

        /// The lower-case container ID prefix this target names, when it may name one.
        var idPrefix: String? {
            let lower = value.lowercased()
            return allows(.id) && isHex(lower) ? lower : nil
        }

        /// Digits only (no sign, no spaces), 1 to Int32.max.
        static func positivePID(_ text: String) -> Int32? {
            guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let pid = Int32(text), pid > 0 else { return nil }
            return pid
        }

        /// The forms, for an error that names an unknown one.
        static let forms = "a TARGET is a PID, a container name, a container ID or unique ID prefix, a pod name, or one of pid:N, name:NAME, id:PREFIX, pod:NAME"
    }
}

extension TargetResolver.Target.Kind {
    /// What to write after the colon.
    var example: String {
        switch self {
        case .pid: "pid:N, e.g. pid:24963"
        case .name: "name:NAME, a container's name"
        case .id: "id:PREFIX, a container ID or its start"
        case .pod: "pod:NAME, a pod's name or ID"
        }
    }
}
