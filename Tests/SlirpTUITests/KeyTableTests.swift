import SlirpCore
import Testing
@testable import SlirpTUI

/// The help says what every key does, in every mode: found by pressing each key in each mode and
/// looking for it in the help, not by reading the table the help is made from.
@Suite struct KeyTableTests {
    /// Keys that are not characters, and every printable ASCII character.
    static let keys: [Key] = [.up, .down, .left, .right, .pageUp, .pageDown, .home, .end, .enter, .escape, .backspace, .delete, .tab, .backTab]
        + (1...12).map { Key.function($0) } + [.control("l")]
    static let characters: [Key] = (0x20...0x7E).compactMap { Unicode.Scalar($0).map { Key.character(Character($0)) } }

    /// What a key does in `state`: the state after it and the effects it asks for.
    static func outcome(_ state: AppState, _ key: Key) -> (AppState, [Effect]) {
        var state = state
        let effects = state.handle(key).effects
        return (state, effects)
    }

    /// The keys that do something in `state` other than what `baseline` (a key bound nowhere) does.
    static func answeredKeys(_ state: AppState, among keys: [Key], baseline: Key = .left) -> [Key] {
        let (idle, idleEffects) = outcome(state, baseline)
        return keys.filter { key in
            let (after, effects) = outcome(state, key)
            return after != idle || effects != idleEffects
        }
    }

    /// The help's line for a mode (the mode's name, then its keys), continuation lines included.
    static func helpText(mode name: String, readOnly: Bool = false) -> String {
        let lines = HelpView.lines(readOnly: readOnly).map { $0.map(\.text).joined() }
        guard let start = lines.firstIndex(where: { $0.hasPrefix(name + " ") }) else { return "" }
        var text = lines[start]
        for line in lines[(start + 1)...] {
            guard line.hasPrefix("   ") else { break }
            text += line
        }
        return text
    }

    /// True when `text` names `key` as a word of its own (`F1` does not count for `F10`).
    static func names(_ text: String, _ key: Key) -> Bool {
        text.split(whereSeparator: { $0 == " " || $0 == ";" }).contains { $0 == key.description }
    }

    static func expectNamed(_ keys: [Key], in text: String, _ mode: String) {
        #expect(!text.isEmpty, "the help has no line for \(mode)")
        for key in keys { #expect(names(text, key), "\(key) does something in \(mode), but its help line does not say it: \(text)") }
    }

    @Test("every key the main screen answers to is in the help's key list")
    func theMainScreensKeys() {
        var state = Fixtures.state()
        state.status = StatusMessage("a message Esc clears")
        let answered = Self.answeredKeys(state, among: Self.keys + Self.characters)
        // The main screen's list: from the third line to the first empty one; the keys are its first column.
        let keyColumn = HelpView.lines(readOnly: false).dropFirst(2).prefix { !$0.isEmpty }.map { $0.first?.text ?? "" }
        #expect(answered.count > 20 && answered.contains(.escape))
        for key in answered {
            #expect(keyColumn.contains { Self.names($0, key) }, "\(key) does something on the main screen, but no line of the help's key list names it")
        }
    }

    @Test("every key the doctor's report answers to is in its help line (Home, End, g, G, Enter, q included)")
    func theDoctorsKeys() {
        var state = PodmanFixtures.state()
        state.press(.end, .character("D"))
        _ = state.apply(.doctorFinished(containerID: PodmanFixtures.brokenID, PodmanFixtures.doctorReport()))
        state.mode = .doctor(top: 3)
        let answered = Self.answeredKeys(state, among: Self.keys + Self.characters)
        #expect(answered.contains(.home) && answered.contains(.enter))
        Self.expectNamed(answered, in: Self.helpText(mode: "doctor report"), "the doctor's report")
    }

    @Test("every key the help screen answers to, other than closing it, is in its help line")
    func theHelpsKeys() {
        var state = Fixtures.state()
        state.mode = .help(top: 3)
        // Any other key closes the help: the baseline is a key that closes it.
        let answered = Self.answeredKeys(state, among: Self.keys + Self.characters, baseline: .left)
        let text = Self.helpText(mode: "this help")
        #expect(text.contains("other keys close it"))
        Self.expectNamed(answered, in: text, "the help")
    }

    @Test("every key a prompt answers to, other than typing, is in its help line")
    func thePromptsKeys() {
        var state = Fixtures.state()
        state.press(.function(4))
        state.type("lab")
        let answered = Self.answeredKeys(state, among: Self.keys)
        #expect(answered.contains(.backspace) && answered.contains(.escape) && answered.contains(.enter))
        Self.expectNamed(answered, in: Self.helpText(mode: "prompts"), "a prompt")
    }

    @Test("every key the add-forward form answers to, other than typing, is in its help line (Shift-Tab and Backspace included)")
    func theFormsKeys() {
        var state = Fixtures.state()
        state.press(.character("3"))
        _ = state.apply(.forwards(Fixtures.web, Fixtures.webForwards, error: nil))
        state.press(.character("a"))
        state.type("80")
        let answered = Self.answeredKeys(state, among: Self.keys)
        #expect(answered.contains(.backTab) && answered.contains(.backspace))
        Self.expectNamed(answered, in: Self.helpText(mode: "add-forward form"), "the form")
        #expect(Self.helpText(mode: "add-forward form", readOnly: true).isEmpty, "--readonly has no form: its help does not describe one")
    }

    @Test("the question before a remove: y and Y remove, other keys keep the forward, as its help line says")
    func theConfirmationsKeys() {
        var state = Fixtures.state()
        state.press(.character("3"))
        _ = state.apply(.forwards(Fixtures.web, Fixtures.webForwards, error: nil))
        state.press(.tab, .down, .character("d"))
        let answered = Self.answeredKeys(state, among: Self.keys + Self.characters)
        #expect(answered == [.character("Y"), .character("y")])
        let text = Self.helpText(mode: "remove forward?")
        Self.expectNamed(answered, in: text, "the confirmation")
        #expect(text.contains("other keys keep it"))
    }

    @Test("in every pane, each function key does what the drawn bar calls it (the bar is read off the screen)")
    func theBarSaysWhatEachFunctionKeyDoes() {
        for pane in Pane.allCases {
            var state = Fixtures.state()
            state.pane = pane
            let bar = render(state, size: Size(width: 120, height: 40)).text(row: 39)
            #expect(bar.contains("F10Quit"), "the bar is the last row: \(bar)")
            // "F1Help  F2Pane  F3SearchF4Filter...": each key's label runs to a space or the next "F<digit>".
            var labels: [Int: String] = [:]
            var rest = Substring(bar)
            while let f = rest.firstIndex(of: "F") {
                let digits = rest[rest.index(after: f)...].prefix { $0.isNumber }
                rest = rest[digits.endIndex...]
                guard let n = Int(digits) else { continue }
                var label = ""
                while let c = rest.first, c != " ", !(c == "F" && rest.dropFirst().first?.isNumber == true) {
                    label.append(c)
                    rest = rest.dropFirst()
                }
                labels[n] = label
            }
            #expect(labels.count >= 8, "\(pane) pane: the bar read as \(labels)")
            for (n, label) in labels.sorted(by: { $0.key < $1.key }) {
                // The binding named by that label, and another key of it: pressing either must do the same.
                guard let binding = KeyBindings.available(readOnly: false).first(where: { $0.barLabel == String(label) }),
                      let other = binding.keys.first(where: { if case .character = $0 { return true } else { return false } })
                else { continue }
                let (byFunction, functionEffects) = Self.outcome(state, .function(n))
                let (byOther, otherEffects) = Self.outcome(state, other)
                #expect(byFunction == byOther && functionEffects == otherEffects,
                        "\(pane) pane: the bar says F\(n) \(label), but F\(n) does not do what \(other) (\(binding.action)) does")
            }
        }
    }
}
