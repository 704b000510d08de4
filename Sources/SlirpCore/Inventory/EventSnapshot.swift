/// The facts of one inventory snapshot that events are made of, and when it was taken.
///
/// Events are differences between two of these (`events(since:)`): no extra reading, only the
/// comparison of what a refresh already holds (by process identity, so a reused PID is a new
/// instance). What a snapshot cannot show is not invented: a forward added and removed between
/// two looks makes no event, and a change is dated when it was noticed (`InventoryEvent.Timing`).
public struct EventSnapshot: Sendable, Equatable {
    /// One slirp4netns process as the snapshot saw it.
    public struct Instance: Sendable, Equatable {
        public let identity: ProcessIdentity
        public let name: String
        public let containerID: String?
        public let user: String?
        /// The process's start, seconds since the epoch.
        public let startTime: Double
        public let defunct: Bool
        /// Its `list_hostfwd` answer; nil when not known at this look (no usable API socket, not
        /// asked, failed): nothing is compared then.
        public let forwards: [HostForward]?

        public init(identity: ProcessIdentity, name: String, containerID: String?, user: String?, startTime: Double,
                    defunct: Bool, forwards: [HostForward]?) {
            self.identity = identity
            self.name = name
            self.containerID = containerID
            self.user = user
            self.startTime = startTime
            self.defunct = defunct
            self.forwards = forwards
        }
    }

    /// A Podman container in slirp4netns mode that is running (or paused) without a live slirp4netns.
    public struct Stranded: Sendable, Equatable {
        public let containerID: String
        public let name: String
        public let user: String?
        public init(containerID: String, name: String, user: String?) {
            self.containerID = containerID
            self.name = name
            self.user = user
        }
    }

    /// Seconds since the epoch.
    public let time: Double
    public let instances: [Instance]
    public let stranded: [Stranded]

    public init(time: Double, instances: [Instance], stranded: [Stranded]) {
        self.time = time
        self.instances = instances
        self.stranded = stranded
    }

    /// The facts of `snapshot`, taken at `time`.
    public init(_ snapshot: InventorySnapshot, at time: Double) {
        self.time = time
        instances = snapshot.instances.map { i in
            Instance(identity: i.identity, name: i.displayName, containerID: i.container?.id ?? i.process.containerID, user: i.process.user,
                     startTime: i.process.startTime, defunct: i.process.isZombie, forwards: i.process.isZombie ? nil : i.forwards)
        }
        stranded = snapshot.detachedContainers.filter { ["running", "paused"].contains($0.container.state) }.map { d in
            Stranded(containerID: d.container.id, name: Format.instanceName(container: d.container, containerID: d.container.id),
                     user: d.container.ownerName)
        }
    }

    /// What changed since `previous`, oldest first.
    public func events(since previous: EventSnapshot) -> [InventoryEvent] {
        var before: [ProcessIdentity: Instance] = [:]
        for instance in previous.instances where before[instance.identity] == nil { before[instance.identity] = instance }
        var events: [InventoryEvent] = []
        var present = Set<ProcessIdentity>()
        for instance in instances {
            present.insert(instance.identity)
            guard let old = before[instance.identity] else {
                // New since the look before: it started then (its own start time says when), and
                // every forward it has was added since.
                events.append(event(.started, instance, at: instance.startTime, .processStart))
                if instance.defunct { events.append(event(.defunct, instance)) }
                for forward in instance.forwards ?? [] { events.append(event(.forwardAdded, instance, forward: forward)) }
                continue
            }
            if instance.defunct && !old.defunct { events.append(event(.defunct, instance)) }
            if let was = old.forwards, let now = instance.forwards, was != now {
                let (added, removed) = Self.difference(from: was, to: now)
                for forward in removed { events.append(event(.forwardRemoved, instance, forward: forward)) }
                for forward in added { events.append(event(.forwardAdded, instance, forward: forward)) }
            }
        }
        // One already defunct died at the look it turned so; being reaped later is no news.
        for old in previous.instances where !present.contains(old.identity) && !old.defunct {
            events.append(InventoryEvent(kind: .died, time: time, timing: .noticed, seen: false, process: old.identity, name: old.name,
                                         containerID: old.containerID, user: old.user))
        }
        let wasStranded = Set(previous.stranded.map(\.containerID))
        for container in stranded where !wasStranded.contains(container.containerID) {
            events.append(lost(container, seen: false, among: instances + previous.instances))
        }
        return Self.ordered(events)
    }

    /// The state as this snapshot shows it, as events (`seen`): each instance started (at its own
    /// start time), those defunct, the forwards each has, the containers running without a slirp4netns.
    public var seen: [InventoryEvent] {
        var events: [InventoryEvent] = []
        for instance in instances {
            events.append(event(.started, instance, at: instance.startTime, .processStart, seen: true))
            if instance.defunct { events.append(event(.defunct, instance, seen: true)) }
            for forward in instance.forwards ?? [] { events.append(event(.forwardAdded, instance, seen: true, forward: forward)) }
        }
        for container in stranded { events.append(lost(container, seen: true, among: instances)) }
        return Self.ordered(events)
    }

    private func event(_ kind: InventoryEvent.Kind, _ instance: Instance, at when: Double? = nil, _ timing: InventoryEvent.Timing = .noticed,
                       seen: Bool = false, forward: HostForward? = nil) -> InventoryEvent {
        InventoryEvent(kind: kind, time: when ?? time, timing: timing, seen: seen, process: instance.identity, name: instance.name,
                       containerID: instance.containerID, user: instance.user, forward: forward)
    }

    /// The container's event, with the slirp4netns it had when one with its ID was seen (the latest start).
    private func lost(_ container: Stranded, seen: Bool, among known: [Instance]) -> InventoryEvent {
        let process = known.filter { $0.containerID == container.containerID }.max { $0.startTime < $1.startTime }?.identity
        return InventoryEvent(kind: .lostSlirp4netns, time: time, timing: .noticed, seen: seen, process: process, name: container.name,
                              containerID: container.containerID, user: container.user)
    }

    /// The forwards in `now` and not in `was`, and the reverse, by id (slirp4netns never reuses an id
    /// within a process) and content.
    static func difference(from was: [HostForward], to now: [HostForward]) -> (added: [HostForward], removed: [HostForward]) {
        var old: [Int: HostForward] = [:]
        for forward in was { old[forward.id] = forward }
        var new: [Int: HostForward] = [:]
        for forward in now { new[forward.id] = forward }
        let added = now.filter { old[$0.id] != $0 }.sorted { $0.id < $1.id }
        let removed = was.filter { new[$0.id] != $0 }.sorted { $0.id < $1.id }
        return (added, removed)
    }

    /// By time, keeping the order they were made in otherwise (an instance's start, then what followed).
    static func ordered(_ events: [InventoryEvent]) -> [InventoryEvent] {
        events.enumerated().sorted { a, b in
            a.element.time != b.element.time ? a.element.time < b.element.time : a.offset < b.offset
        }.map(\.element)
    }
}
