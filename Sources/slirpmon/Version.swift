/// slirpmon's version: the one place it is kept (`slirpmon --version`, the man page).
enum SlirpmonVersion {
    static let current = "0.9.0"
}
