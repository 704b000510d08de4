import SlirpCore

// The benchmark prints slirp4netns's and other programs' error text (an instance that failed to
// start, a failing tool's stderr), and runs as root: every write goes through SlirpCore's
// `TerminalOutput`, as the CLI's do, so an escape sequence in that text is shown, never obeyed.

/// Swift's `print` writes around `TerminalOutput`: not in this module.
@available(*, unavailable, message: "write through TerminalOutput: it makes text from outside safe for a terminal")
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {}
