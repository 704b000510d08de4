import ArgumentParser

/// The words for TARGET: one text for every subcommand that takes one (`show`, `log`,
/// `fwd list|add|rm`), so that each `--help` states the same rules (`TargetResolver`).
enum TargetHelp {
    static let argument = ArgumentHelp("A PID, container name, container ID or unique ID prefix, or pod name; or pid:N, name:NAME, id:PREFIX, pod:NAME.")

    static let rules = """
        TARGET is a slirp4netns PID, a Podman container's name, ID or unique ID prefix, or a pod's \
        name (as root, any user's). A TARGET that matches more than one of these (a container named \
        with a PID's digits, a name that is the start of another container's ID, a name two users \
        give) is refused, exit 1, nothing sent: the error lists each candidate with the form that \
        names it alone. pid:N, name:NAME, id:PREFIX and pod:NAME (a pod's name or ID) name that \
        kind only and never fall back to another; pid:N of a slirp4netns reads that process only \
        (no scan, no Podman), the quickest form for scripts; when N is not one, /proc is scanned \
        (Podman is not asked) to list the slirp4netns running in the error.
        """
}
