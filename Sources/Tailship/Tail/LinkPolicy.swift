#if canImport(Glibc)
    import Glibc

    /// Which symbolic links a source follows: the files a log writer can plant links among are
    /// read by an agent that can read more than the writer can (docs/security.md, "Links").
    ///
    /// A link anywhere in a matched path is followed only when
    /// - its owner is root or owns what it points to (the kernel's `protected_symlinks` rule: a
    ///   user cannot lend the agent another user's file), and
    /// - unless the pattern names it literally (whoever wrote the configuration chose it), what it
    ///   resolves to lies under one of the source's own directories (the literal directories of
    ///   its `paths`) or under one of its `link_targets`.
    struct LinkPolicy: Sendable {
        /// What a matched path may be opened as.
        enum Verdict: Sendable, Equatable {
            /// No link in it.
            case plain
            /// Links that pass; the file is opened as this canonical path.
            case follow(canonical: String)
            /// A link that does not pass, and why.
            case refuse(reason: String)
            /// A link that leads nowhere (dangling, a loop): matches nothing, like a missing file.
            case unresolved
        }

        /// Canonical directories a link the pattern does not name may lead into.
        let roots: [String]

        init(source: TailSource) {
            let directories = source.paths.map { Glob($0).literalPrefix } + source.linkTargets
            roots = Array(Set(directories.compactMap(Discovery.resolve)))
        }

        /// The verdict on `path`, matched by `glob`. `known` caches the verdicts on the directories
        /// above it, for one scan of one glob (many files share them; whether a link is named
        /// depends on the glob).
        func verdict(_ path: String, glob: Glob, known: inout [String: Verdict]) -> Verdict {
            let parts = path.split(separator: "/", omittingEmptySubsequences: true)
            var prefix = ""
            var sofar = Verdict.plain
            for (index, part) in parts.enumerated() {
                prefix += "/" + part
                let isLast = index == parts.count - 1
                if !isLast, let cached = known[prefix] {
                    sofar = cached
                } else {
                    let step = component(prefix, named: index < glob.namedComponents)
                    sofar = step == .plain ? sofar : step
                    if !isLast { known[prefix] = sofar }
                }
                if case .refuse = sofar { return sofar }
                if sofar == .unresolved { return sofar }
            }
            guard sofar != .plain else { return .plain }
            guard let canonical = Discovery.resolve(path) else { return .unresolved }
            return .follow(canonical: canonical)
        }

        /// One component of a path: `.plain` when it is no link, `.follow` (canonical path left
        /// empty) when it is one that passes.
        private func component(_ path: String, named: Bool) -> Verdict {
            var link = stat()
            guard lstat(path, &link) == 0 else { return .unresolved }
            guard (link.st_mode & S_IFMT) == S_IFLNK else { return .plain }
            var target = stat()
            guard stat(path, &target) == 0, let real = Discovery.resolve(path) else { return .unresolved }
            if link.st_uid != 0 && link.st_uid != target.st_uid {
                return .refuse(
                    reason: "the link is owned by uid \(link.st_uid) and \(real) by uid \(target.st_uid): only "
                        + "root's links, or a link owned by its target's owner, are followed")
            }
            if !named && !roots.contains(where: { real == $0 || real.hasPrefix($0 == "/" ? "/" : $0 + "/") }) {
                return .refuse(
                    reason:
                        "it leads to \(real), outside the source's directories (\(roots.sorted().joined(separator: ", "))); "
                        + "list its directory in the source's link_targets to follow it")
            }
            return .follow(canonical: "")
        }
    }
#endif
