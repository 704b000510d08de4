import SlirpCore

extension InstanceSnapshot {
    /// What a client's address looks like inside it (`ClientSource`), from the same facts `show`
    /// uses; derived when the details pane draws, not on each refresh. `gone`: the row's process has exited.
    func clientSource(gone: Bool) -> ClientSource {
        ClientSource.of(.init(configurationKnown: configuration.isKnown, exited: isZombie || gone, guest: guest, gateway: gateway,
                              apiSocket: apiSocket, container: container, rootlessPorts: rootlessPorts,
                              rootlessNetwork: rootlessNetwork, rootlessKit: rootlessKit))
    }
}
