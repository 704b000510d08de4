import NIOCore
import SlirpMetrics

/// `slirpmon_page_age_seconds`, added to every page at the moment it is answered: the seconds
/// since its render ended (near 0 for a fresh page; more for the last page, answered when a
/// render outlasts the scrape's wait). Written after the page, not into it: the page (up to
/// about 1 MB at 500 instances) is kept as rendered and sent as it is, and each answer adds
/// only these three lines.
enum PageAge {
    /// HELP and TYPE, from the metric's table (`SlirpMetric`).
    static let header = Array("# HELP \(SlirpMetric.pageAge.rawValue) \(SlirpMetric.pageAge.help)\n# TYPE \(SlirpMetric.pageAge.rawValue) gauge\n".utf8)

    /// The family for a page of `age`, in milliseconds (`12.345`); a newline first when the page
    /// does not end with one.
    static func family(age: TimeAmount, after page: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let millis = max(0, age.nanoseconds / 1_000_000)
        let fraction = String(millis % 1000)
        let sample = "\(SlirpMetric.pageAge.rawValue) \(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)\n"
        var buffer = allocator.buffer(capacity: header.count + sample.utf8.count + 1)
        if let lastByte = page.readableBytesView.last, lastByte != UInt8(ascii: "\n") {
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        buffer.writeBytes(header)
        buffer.writeString(sample)
        return buffer
    }
}
