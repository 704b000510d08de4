import SlirpCore
import Synchronization

/// Makes metrics pages (`MetricsPage`), one at a time, keeping between them what still holds.
///
/// A collector made for one page (`slirpmon metrics`) keeps what `list` keeps between runs. One
/// kept by a server (`slirpmon serve`, `addressMaxAge` given) also keeps in memory, from one
/// page to the next: each instance's series objects (`InstanceParts`), the process facts and
/// forward lists (no disk read per page), Podman's answer (`serverPodmanMaxAge`), and each
/// namespace's addresses for up to `addressMaxAge` seconds while its namespace file is the same
/// one (a namespace's addresses cost five files, its tap counters one). What a page shows as
/// current is read for every page: processes, states, CPU, memory, API sockets, forwards (asked
/// again when the log shows a request), tap counters.
public final class MetricsCollector: Sendable {
    private let options: MetricsOptions
    private let kept: InventoryCache
    private let podman: PodmanCatalog?
    private let keepsAddresses: Bool
    /// Each instance's series objects, from one page to the next (`InstanceParts`).
    private let parts = Mutex(InstanceParts())

    /// `addressMaxAge`: keep addresses that long between pages; nil: a collector for one page.
    public init(_ options: MetricsOptions, addressMaxAge: Double? = nil) {
        self.options = options
        kept = addressMaxAge.map { InventoryCache.persistentFacts(addressMaxAge: $0) } ?? InventoryCache.persistentFacts()
        // A server asks Podman again when its state files or the slirp4netns processes change
        // (`PodmanDiskCache.key`: every create, start, stop, failure and removal writes them), else
        // once a minute: at a scrape every 15 s, a 5 s age would run Podman for every user on every page.
        podman = options.podman ? PodmanCatalog(maxAge: addressMaxAge == nil ? 5 : Self.serverPodmanMaxAge, persistent: true) : nil
        keepsAddresses = addressMaxAge != nil
    }

    /// How long a server keeps a namespace's addresses: as long as the monitor keeps those of the
    /// instances not on screen.
    public static let serverAddressMaxAge = InventoryCache.monitorAddressMaxAge

    /// How long a server keeps Podman's answer while its state files and the slirp4netns processes are the same.
    public static let serverPodmanMaxAge = 60.0

    /// Collects the inventory and makes its page. Not to be called while another call runs.
    public func make() throws(MetricsError) -> MetricsPage.Made {
        let started = Deadline.now
        var inventory = Inventory.Options(purpose: .scriptedList(forwards: true, cache: kept))
        inventory.apiTimeout = options.apiTimeout
        inventory.readLogs = false
        inventory.podman = podman
        inventory.tapCountersEveryTime = keepsAddresses
        let snapshot: InventorySnapshot
        do { snapshot = try Inventory(options: inventory).snapshot() } catch { throw .scan(error) }
        // Joins proven on an earlier page, for instances whose user's Podman did not answer this time.
        var proven: [ProcessIdentity: InventoryCache.ProvenContainer] = [:]
        for i in snapshot.instances where i.container == nil {
            guard let uid = i.process.uid, !snapshot.podmanAnswered.contains(uid), let join = kept.provenContainer(of: i.process) else { continue }
            proven[i.process.identity] = join
        }
        // What is kept for the next run is written while the page is made.
        let text = kept.persist {
            parts.withLock { MetricsPage.page(snapshot, options, proven: proven, collectSeconds: Deadline.now.seconds(since: started), kept: $0) }
        }
        return MetricsPage.Made(text: text, podmanFailures: snapshot.podmanFailures)
    }
}
