#if canImport(Glibc)
    import Glibc

    /// One tailed source as the tailer sees it: its globs, exclusions, where to start in a file
    /// first seen, and the line limit. Its position in the tailer's array identifies it.
    public struct TailSource: Sendable {
        public var name: String
        public var paths: [String]
        public var exclude: [String]
        public var startAt: StartAt
        public var maxLineBytes: Int
        /// At most this many of the source's idle, fully read files keep a descriptor open; the
        /// least recently active are closed and reopened on change (see docs/rotation.md).
        public var maxOpenFiles: Int
        /// When set, the source's files are checked by `stat` this often and its directories are
        /// not watched with inotify (for NFS and mounts where inotify sees nothing).
        public var pollInterval: Duration?
        /// Directories outside its own that links matched by its wildcards may lead into
        /// (`link_targets`; see `LinkPolicy`).
        public var linkTargets: [String]
        /// How lines join into records (`multiline`); nil: each line is one.
        public var framing: RecordFraming?

        public init(
            name: String, paths: [String], exclude: [String] = [], startAt: StartAt = .end,
            maxLineBytes: Int = ConfigDefaults.maxLineBytes, maxOpenFiles: Int = ConfigDefaults.maxOpenFiles,
            pollInterval: Duration? = nil, linkTargets: [String] = []
        ) {
            self.pollInterval = pollInterval
            self.linkTargets = linkTargets
            self.name = name
            self.paths = paths
            self.exclude = exclude
            self.startAt = startAt
            self.maxLineBytes = maxLineBytes
            self.maxOpenFiles = max(maxOpenFiles, 1)
        }

        /// The tailing part of a configured source.
        public init(_ config: SourceConfig) {
            self.init(
                name: config.name, paths: config.paths, exclude: config.exclude, startAt: config.startAt,
                maxLineBytes: config.maxLineBytes, maxOpenFiles: config.maxOpenFiles,
                pollInterval: config.pollIntervalMs.map { .milliseconds($0) }, linkTargets: config.linkTargets)
        }
    }

    /// Finds the files the sources ask for, and the directories to watch for new ones.
    ///
    /// A file matched by several sources belongs to the first (one reader per file, so one
    /// offset). A glob whose directory does not exist yet is covered by watching its nearest
    /// existing ancestor: any entry created there triggers a new scan (and the tailer's periodic
    /// rescan is the safety net for deeper trees created at once).
    public struct Discovery: Sendable {
        /// The result of one scan.
        public struct Snapshot: Sendable, Equatable {
            /// Matching regular files, path -> index of the source that owns it.
            public var files: [String: Int]
            /// Directories to watch for created, moved and deleted entries.
            public var directories: Set<String>
            /// The `stat` of each matching file, taken during the scan.
            public var statuses: [String: FileStatus] = [:]
            /// Matching files that are symlinks, by the real path of the file they resolve to
            /// (whose directory is in `directories` too, so that writes there are seen).
            public var linkTargets: [String: [String]] = [:]
            /// Matching files reached through links the policy follows: the canonical path to
            /// open (with no link in it, so a link swapped in since is not followed).
            public var canonical: [String: String] = [:]
            /// Paths reached through links the policy refuses, and why (neither read nor watched).
            public var refusedLinks: [String: String] = [:]
            /// For a path reached through links owned by users other than root: those users, one
            /// of whom must own the file opened (`LinkPolicy.Verdict.follow`).
            public var linkOwners: [String: Set<UInt32>] = [:]
        }

        public let sources: [TailSource]
        private let globs: [[Glob]]
        private let linkPolicies: [LinkPolicy]

        public init(sources: [TailSource]) {
            self.sources = sources
            globs = sources.map { $0.paths.map(Glob.init) }
            linkPolicies = sources.map(LinkPolicy.init)
        }

        /// Lists what matches now, for the sources in `only` (all when nil). Directories of
        /// sources with a `pollInterval` are not listed for watching.
        public func scan(only: Set<Int>? = nil) -> Snapshot {
            var snapshot = Snapshot(files: [:], directories: [])
            for (index, source) in sources.enumerated() where only?.contains(index) ?? true {
                let watched = source.pollInterval == nil
                for glob in globs[index] {
                    let found = glob.expand()
                    var known: [String: LinkPolicy.Walk] = [:]
                    if watched {
                        // A directory reached through a refused link is not watched either.
                        for directory in found.directories {
                            switch linkPolicies[index].verdict(directory, glob: glob, known: &known) {
                            case .plain, .follow: snapshot.directories.insert(directory)
                            case .refuse, .unresolved: break
                            }
                        }
                    }
                    if watched && (found.directories.isEmpty || !Glob.isDirectory(glob.literalPrefix)) {
                        snapshot.directories.insert(Discovery.nearestExistingAncestor(of: glob.literalPrefix))
                    }
                    for path in found.files where snapshot.files[path] == nil {
                        guard !Discovery.isExcluded(path, by: source.exclude) else { continue }
                        switch linkPolicies[index].verdict(path, glob: glob, known: &known) {
                        case .plain:
                            break
                        case .follow(let canonical, let owners):
                            snapshot.canonical[path] = canonical
                            if !owners.isEmpty { snapshot.linkOwners[path] = owners }
                        case .refuse(let reason):
                            snapshot.refusedLinks[path] = reason
                            continue
                        case .unresolved:
                            continue
                        }
                        guard let status = try? FileStatus.of(path: path), status.isRegular else { continue }
                        snapshot.files[path] = index
                        snapshot.statuses[path] = status
                        if watched && found.links.contains(path), let target = snapshot.canonical[path] {
                            snapshot.linkTargets[target, default: []].append(path)
                            snapshot.directories.insert(Discovery.parent(of: target))
                        }
                    }
                }
            }
            // A path one glob refused and another (naming the link, or with `link_targets`) took is
            // read: not reported as refused.
            for path in snapshot.refusedLinks.keys where snapshot.files[path] != nil {
                snapshot.refusedLinks[path] = nil
            }
            return snapshot
        }

        /// True when one of `patterns` matches the file name or the full path.
        public static func isExcluded(_ path: String, by patterns: [String]) -> Bool {
            guard !patterns.isEmpty else { return false }
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return patterns.contains { Glob.matches($0, name) || Glob.matches($0, path) }
        }

        /// The canonical path of the file `path` names (`realpath(3)`), nil when it cannot be resolved.
        static func resolve(_ path: String) -> String? {
            guard let resolved = realpath(path, nil) else { return nil }
            defer { free(resolved) }
            return String(cString: resolved)
        }

        /// The directory part of an absolute path ("/" for a top-level entry).
        static func parent(of path: String) -> String { PathText.parent(of: path) }

        /// `path` itself if it is a directory, else the closest parent that is ("/" at worst).
        static func nearestExistingAncestor(of path: String) -> String {
            var current = path
            while current != "/" && !current.isEmpty {
                if Glob.isDirectory(current) { return current }
                guard let slash = current.lastIndex(of: "/") else { break }
                current = String(current[..<slash])
            }
            return "/"
        }
    }
#endif
