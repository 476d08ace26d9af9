#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// Which source's rules read a file named on the command line (`test`, `import`), when
/// `--source` does not say: the one whose `paths` match it, trying its rotated names too
/// (`app.log.1`, `app.log.2.gz`, `app.log-20261204` are `app.log` rotated).
public enum SourceSelection {
    /// Why no single source could be chosen.
    public struct Ambiguous: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The index of the source named `name`; without a name, the only source, or the one whose
    /// `paths` match every file of `files`.
    public static func index(named name: String?, for files: [String], in config: AgentConfig) throws(Ambiguous)
        -> Int
    {
        let names = config.sources.map(\.name).joined(separator: ", ")
        if let name {
            guard let found = config.sources.firstIndex(where: { $0.name == name }) else {
                throw Ambiguous(message: "no source named '\(name)'; the config has: \(names)")
            }
            return found
        }
        if config.sources.count == 1 { return 0 }
        var chosen: Set<Int>?
        for file in files {
            let matching = Set(config.sources.indices.filter { matches(file, config.sources[$0]) })
            chosen = chosen.map { $0.intersection(matching) } ?? matching
        }
        guard let chosen, chosen.count == 1, let only = chosen.first else {
            let what = files.isEmpty ? "standard input" : files.joined(separator: ", ")
            let which = (chosen?.isEmpty ?? true) ? "no source's paths match" : "several sources' paths match"
            throw Ambiguous(message: "\(which) \(what); name the rules to apply with --source (one of: \(names))")
        }
        return only
    }

    /// Whether one of the source's globs matches `file` (made absolute) or one of its rotated
    /// names, and no `exclude` pattern does.
    static func matches(_ file: String, _ source: SourceConfig) -> Bool {
        let absolute =
            file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
        for candidate in unrotated(absolute) where !Discovery.isExcluded(candidate, by: source.exclude) {
            if source.paths.contains(where: { Glob.matches($0, candidate) }) { return true }
        }
        return false
    }

    /// `path`, then without a `.gz`, then without a rotation suffix (`.<n>`, `-<digits>`).
    static func unrotated(_ path: String) -> [String] {
        var names = [path]
        var current = path
        if current.hasSuffix(".gz") {
            current.removeLast(3)
            names.append(current)
        }
        if let cut = current.lastIndex(where: { $0 == "." || $0 == "-" }),
            current[current.index(after: cut)...].allSatisfy(\.isNumber), current.index(after: cut) < current.endIndex
        {
            names.append(String(current[..<cut]))
        }
        return names
    }
}
