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

        /// Walks the file system: `files` are the paths matching the whole pattern (any type; the
        /// caller filters), `directories` every directory in which a new entry could create a
        /// match (the ones whose entries were listed or looked up).
        public func expand() -> (files: [String], directories: [String]) {
            var files: [String] = []
            var directories: [String] = []
            var seen = Set<String>()
            walk("", components[...], &files, &directories, &seen)
            return (files, directories)
        }

        private func walk(
            _ directory: String, _ rest: ArraySlice<Component>, _ files: inout [String], _ directories: inout [String],
            _ seen: inout Set<String>
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
                        directories.append(here)
                    }
                    if access(path, F_OK) == 0 { files.append(path) }
                } else if Glob.isDirectory(path) {
                    walk(path, remaining, &files, &directories, &seen)
                }
            case .pattern(let text):
                if !seen.contains(here) {
                    seen.insert(here)
                    directories.append(here)
                }
                for name in Glob.list(here) where fnmatch(text, name, FNM_PERIOD) == 0 {
                    let path = directory + "/" + name
                    if isLast {
                        files.append(path)
                    } else if Glob.isDirectory(path) {
                        walk(path, remaining, &files, &directories, &seen)
                    }
                }
            case .anyDepth:
                // Zero directories, then each subdirectory (hidden ones excluded, like `*`), depth-first.
                walk(directory, remaining, &files, &directories, &seen)
                if !seen.contains(here) {
                    seen.insert(here)
                    directories.append(here)
                }
                for name in Glob.list(here) where !name.hasPrefix(".") {
                    let path = directory + "/" + name
                    if Glob.isDirectory(path) && !Glob.isSymlink(path) {
                        walk(path, rest, &files, &directories, &seen)
                    }
                }
            }
        }

        /// Entry names of a directory, sorted, without `.` and `..`; empty when it cannot be read.
        static func list(_ directory: String) -> [String] {
            guard let dir = opendir(directory) else { return [] }
            defer { closedir(dir) }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            return names.sorted()
        }

        /// Paths of the entries of `directory` whose inode number is `inode` (from `readdir`'s
        /// `d_ino`; the caller checks the device when it opens one).
        static func entries(in directory: String, inode: UInt64) -> [String] {
            guard let dir = opendir(directory) else { return [] }
            defer { closedir(dir) }
            var paths: [String] = []
            while let entry = readdir(dir) {
                guard UInt64(entry.pointee.d_ino) == inode else { continue }
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." { paths.append(directory == "/" ? "/" + name : directory + "/" + name) }
            }
            return paths
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
