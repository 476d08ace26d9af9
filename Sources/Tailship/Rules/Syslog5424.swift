/// RFC 5424 syslog, as rsyslog and journald forwarders write it, read on bytes:
/// `<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`.
///
/// Fields: `pri`, `version`, `timestamp` (RFC 3339 with fraction and offset: `format:
/// iso8601`), `hostname`, `app_name`, `procid`, `msgid`, `message` (a leading UTF-8 BOM
/// removed), and each structured-data parameter as `sd.<SD-ID>.<PARAM-NAME>`
/// (`{{sd.exampleSDID@32473.eventID}}`), its `\"`, `\\` and `\]` escapes decoded. A header
/// field written `-` (the RFC's nil value) is absent. The `syslog` format reads a line with this
/// parser when it starts like one (`<PRI>` then a version digit), else as RFC 3164.
struct Syslog5424Parser {
    static let headerFields = ["pri", "version", "timestamp", "hostname", "app_name", "procid", "msgid"]

    let table: FieldTable
    let fields: LineFields
    /// The slots of `headerFields` (nil when no rule names one), then `message`'s.
    private let headerSlots: [Int?]
    private let messageSlot: Int?
    /// Whether any rule names an `sd.` field: the structured data is decoded only then.
    private let wantsStructuredData: Bool
    private var name: [UInt8] = []

    init(table: FieldTable, fields: LineFields) {
        self.table = table
        self.fields = fields
        headerSlots = Self.headerFields.map { table.slot(named: $0) }
        messageSlot = table.slot(named: "message")
        wantsStructuredData = table.names.contains { $0.hasPrefix("sd.") }
    }

    /// Whether `line` starts like RFC 5424: `<` 1-3 digits `>` then a nonzero digit.
    static func looksLike(_ line: UnsafeRawBufferPointer) -> Bool {
        guard line.count > 4, line[0] == UInt8(ascii: "<") else { return false }
        var i = 1
        while i < line.count, i <= 4, isDigit(line[i]) { i += 1 }
        guard i > 1, i < line.count - 1, line[i] == UInt8(ascii: ">") else { return false }
        return line[i + 1] >= UInt8(ascii: "1") && line[i + 1] <= UInt8(ascii: "9")
    }

    /// Reads `line` into `fields`; nil when it is read, else what is wrong with it.
    mutating func parse(_ line: UnsafeRawBufferPointer) -> String? {
        let n = line.count
        var i = 1
        let priStart = i
        while i < n, Self.isDigit(line[i]) { i += 1 }
        guard i < n, line[i] == UInt8(ascii: ">") else { return "no <PRI>" }
        set(headerSlots[0], priStart, i)
        i += 1
        // VERSION, then the five space-separated header fields.
        for index in 1...6 {
            let start = i
            while i < n, line[i] != UInt8(ascii: " ") { i += 1 }
            guard i < n, i > start else { return "the header ends early (\(Self.headerFields[index]))" }
            if !(i - start == 1 && line[start] == UInt8(ascii: "-")) { set(headerSlots[index], start, i) }
            i += 1
        }
        // STRUCTURED-DATA: `-`, or one or more `[ID (SP NAME="VALUE")*]`.
        if i < n, line[i] == UInt8(ascii: "-") {
            i += 1
        } else {
            guard i < n, line[i] == UInt8(ascii: "[") else { return "no structured data" }
            while i < n, line[i] == UInt8(ascii: "[") {
                guard let next = element(line, from: i + 1) else { return "malformed structured data" }
                i = next
            }
        }
        // MSG: after one space, without a BOM.
        if i < n {
            guard line[i] == UInt8(ascii: " ") else { return "no space before the message" }
            i += 1
            if n - i >= 3, line[i] == 0xEF, line[i + 1] == 0xBB, line[i + 2] == 0xBF { i += 3 }
            set(messageSlot, i, n)
        }
        return nil
    }

    /// One `ID (SP NAME="VALUE")*]` from `start` (after its `[`); the index after its `]`.
    private mutating func element(_ line: UnsafeRawBufferPointer, from start: Int) -> Int? {
        let n = line.count
        var i = start
        while i < n, line[i] != UInt8(ascii: " "), line[i] != UInt8(ascii: "]") { i += 1 }
        guard i > start, i < n else { return nil }
        let id = UnsafeRawBufferPointer(rebasing: line[start..<i])
        while i < n, line[i] == UInt8(ascii: " ") {
            i += 1
            let nameStart = i
            while i < n, line[i] != UInt8(ascii: "=") { i += 1 }
            guard i + 1 < n, i > nameStart, line[i + 1] == UInt8(ascii: "\"") else { return nil }
            let param = UnsafeRawBufferPointer(rebasing: line[nameStart..<i])
            i += 2
            let valueStart = fields.scratchUsed
            while i < n, line[i] != UInt8(ascii: "\"") {
                // `\"`, `\\` and `\]` stand for the character; any other backslash is itself.
                if line[i] == UInt8(ascii: "\\"), i + 1 < n,
                    line[i + 1] == UInt8(ascii: "\"") || line[i + 1] == UInt8(ascii: "\\")
                        || line[i + 1] == UInt8(ascii: "]")
                {
                    i += 1
                }
                if wantsStructuredData { fields.appendScratch(line[i]) }
                i += 1
            }
            guard i < n else { return nil }
            i += 1  // the closing quote
            if wantsStructuredData, let slot = slot(id: id, param: param) {
                fields.set(slot, FieldRef(start: valueStart, end: fields.scratchUsed, inScratch: true, present: true))
            }
        }
        guard i < n, line[i] == UInt8(ascii: "]") else { return nil }
        return i + 1
    }

    /// The slot of `sd.<id>.<param>`, when a rule names it.
    private mutating func slot(id: UnsafeRawBufferPointer, param: UnsafeRawBufferPointer) -> Int? {
        name.removeAll(keepingCapacity: true)
        name.append(contentsOf: "sd.".utf8)
        name.append(contentsOf: id)
        name.append(UInt8(ascii: "."))
        name.append(contentsOf: param)
        return name.withUnsafeBytes { table.slot(matching: $0) }
    }

    private func set(_ slot: Int?, _ start: Int, _ end: Int) {
        guard let slot else { return }
        fields.set(slot, FieldRef(start: start, end: end, inScratch: false, present: true))
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
}
