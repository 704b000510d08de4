extension Format {
    /// A rate or size in five characters at most, binary units: `0`, `812B`, `9.5K`, `812K`, `1.2M`, `1023M`, `3.4G`.
    public static func rate(_ value: Double) -> String {
        let v = max(0, value)
        if v < 0.5 { return "0" }
        if v < 1024 { return "\(Int(v.rounded()))B" }
        for (unit, name) in [(1024.0, "K"), (1048576.0, "M"), (1073741824.0, "G")] {
            let scaled = v / unit
            if scaled < 9.95 { return "\((scaled * 10).rounded() / 10)\(name)" }
            if scaled < 1023.5 || name == "G" { return "\(Int(scaled.rounded()))\(name)" }
        }
        return "\(Int(v))B"
    }

    /// A CPU percentage: one decimal below 100 (`0.0`, `97.4`), whole from 100 (`100`, `200`).
    public static func percent(_ value: Double) -> String {
        let v = max(0, value)
        let tenth = (v * 10).rounded() / 10
        return tenth < 100 ? "\(tenth)" : "\(Int(v.rounded()))"
    }
}
