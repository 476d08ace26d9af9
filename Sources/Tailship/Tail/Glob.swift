#if canImport(Glibc)
    import Glibc

    /// A path pattern as written in a source's `paths:`: absolute, `/`-separated, each component
    /// matched with `fnmatch(3)` (`*`, `?`, `[...]`; a leading `.` must be matched explicitly, as in
    /// the shell), plus `**` as a whole component for any number of directories (zero included).
    public struct Glob: Sendable, Hashable, CustomStringConvertible {
        /// One path component of the pattern.
        enum Component: Sendable, Hashable {
            case literal(String)
            case pattern(String)
            case anyDepth
        }

        public let pattern: String
        let components: [Component]

        public init(_ pattern: String) {
            self.pattern = pattern
            components = pattern.split(separator: "/", omittingEmptySubsequences: true).map { part in
                let text = String(part)
                if text == "**" { return .anyDepth }
                return text.contains(where: { "*?[".contains($0) }) ? .pattern(text) : .literal(text)
            }
        }

        public var description: String { pattern }

        /// The directory made of the leading literal components: the deepest one that must exist
        /// for anything to match.
        public var literalPrefix: String {
            var prefix = ""
            for component in components.dropLast() {
                guard case .literal(let name) = component else { break }
                prefix += "/" + name
            }
            return prefix.isEmpty ? "/" : prefix
        }

        /// How many leading components the pattern names literally: a link there was chosen by
        /// whoever wrote the configuration (see `LinkPolicy`).
        public var namedComponents: Int {
            components.prefix { if case .literal = $0 { true } else { false } }.count
        }

        /// What one expansion found.
        public struct Expansion: Sendable, Equatable {
            /// Paths matching the whole pattern (any type; the caller filters).
            public var files: [String] = []
            /// Those of `files` that are symbolic links (from `readdir`'s `d_type`, or `lstat`).
            public var links: Set<String> = []
            /// Every directory in which a new entry could create a match (the ones whose entries
            /// were listed or looked up).
            public var directories: [String] = []
        }

        /// Walks the file system. Symlinked directories are followed where a literal or a pattern
        /// names them, not by `**` (which would loop on a link to an ancestor).
        public func expand() -> Expansion {
            var found = Expansion()
            var seen = Set<String>()
            walk("", components[...], &found, &seen)
            return found
        }

        private func walk(
            _ directory: String, _ rest: ArraySlice<Component>, _ found: inout Expansion, _ seen: inout Set<String>
        ) {
            guard let component = rest.first else { return }
            let here = directory.isEmpty ? "/" : directory
            let remaining = rest.dropFirst()
            let isLast = remaining.isEmpty
            switch component {
            case .literal(let name):
                let path = directory + "/" + name
                if isLast {
                    if !seen.contains(here) {
                        seen.insert(here)
                        found.directories.append(here)
                    }
                    var st = stat()
                    if lstat(path, &st) == 0 {
                        found.files.append(path)
                        if (st.st_mode & S_IFMT) == S_IFLNK { found.links.insert(path) }
                    }
                } else if Glob.isDirectory(path) {
                    // Retargeting a directory link is a rename in the directory holding it.
                    if Glob.isSymlink(path) && !seen.contains(here) {
                        seen.insert(here)
                        found.directories.append(here)
                    }
                    walk(path, remaining, &found, &seen)
                }
            case .pattern(let text):
                if !seen.contains(here) {
                    seen.insert(here)
                    found.directories.append(here)
                }
                for entry in Glob.list(here) where fnmatch(text, entry.name, FNM_PERIOD) == 0 {
                    let path = directory + "/" + entry.name
                    if isLast {
                        found.files.append(path)
                        if entry.isLink(at: path) { found.links.insert(path) }
                    } else if Glob.isDirectory(path) {
                        walk(path, remaining, &found, &seen)
                    }
                }
            case .anyDepth:
                // Zero directories, then each subdirectory (hidden ones excluded, like `*`), depth-first.
                walk(directory, remaining, &found, &seen)
                if !seen.contains(here) {
                    seen.insert(here)
                    found.directories.append(here)
                }
                for entry in Glob.list(here) where !entry.name.hasPrefix(".") {
                    let path = directory + "/" + entry.name
                    if entry.isDirectory(at: path) { walk(path, rest, &found, &seen) }
                }
            }
        }

        /// A directory entry: its name and `readdir`'s `d_type` (`DT_UNKNOWN` on file systems that
        /// do not fill it in, when `lstat` decides).
        struct Entry {
            var name: String
            var type: UInt8
            /// `d_ino`: the inode number (its device is the directory's, short of a mount point).
            var inode: UInt64

            func isLink(at path: String) -> Bool {
                type == DT_LNK || (type == DT_UNKNOWN && Glob.isSymlink(path))
            }

            /// A real directory (not a symlink to one).
            func isDirectory(at path: String) -> Bool {
                type == DT_DIR || (type == DT_UNKNOWN && Glob.isDirectory(path) && !Glob.isSymlink(path))
            }
        }

        /// Entries of a directory, sorted by name, without `.` and `..`; empty when it cannot be read.
        static func list(_ directory: String) -> [Entry] {
            guard let dir = opendir(directory) else { return [] }
            defer { closedir(dir) }
            var entries: [Entry] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." {
                    entries.append(Entry(name: name, type: entry.pointee.d_type, inode: UInt64(entry.pointee.d_ino)))
                }
            }
            return entries.sorted { $0.name < $1.name }
        }

        /// Paths of the entries of `directory` whose inode number is `inode` (from `readdir`'s
        /// `d_ino`; the caller checks the device when it opens one).
        static func entries(in directory: String, inode: UInt64) -> [String] {
            list(directory).filter { $0.inode == inode }.map {
                directory == "/" ? "/" + $0.name : directory + "/" + $0.name
            }
        }

        static func isDirectory(_ path: String) -> Bool {
            (try? FileStatus.of(path: path))?.isDirectory ?? false
        }

        static func isSymlink(_ path: String) -> Bool {
            var st = stat()
            return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
        }

        /// `fnmatch(3)` with no flags, so `*` also matches `/`: used for `exclude:` patterns, which
        /// are tried against both the file name and the full path.
        public static func matches(_ pattern: String, _ text: String) -> Bool {
            fnmatch(pattern, text, 0) == 0
        }
    }
#endif
