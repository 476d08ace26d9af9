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
            /// Links that pass; the file is opened as this canonical path, and the file opened
            /// must belong to each of `owners` (the links' owners other than root), which the
            /// open checks on the descriptor: a link swapped between this check and the open
            /// cannot lend the agent another user's file.
            case follow(canonical: String, owners: Set<UInt32>)
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

        /// What the components of a path so far came to.
        struct Walk: Sendable {
            var linked = false
            /// A link the pattern does not name was on the way: the end must lie under `roots`.
            var unnamed = false
            var owners: Set<UInt32> = []
            var failure: Verdict?
        }

        /// The verdict on `path`, matched by `glob`. `known` caches the walks to the directories
        /// above it, for one scan of one glob (many files share them; whether a link is named
        /// depends on the glob).
        func verdict(_ path: String, glob: Glob, known: inout [String: Walk]) -> Verdict {
            let parts = path.split(separator: "/", omittingEmptySubsequences: true)
            var prefix = ""
            var walk = Walk()
            for (index, part) in parts.enumerated() {
                prefix += "/" + part
                let isLast = index == parts.count - 1
                if !isLast, let cached = known[prefix] {
                    walk = cached
                } else {
                    component(prefix, named: index < glob.namedComponents, into: &walk)
                    if !isLast { known[prefix] = walk }
                }
                if let failure = walk.failure { return failure }
            }
            guard walk.linked else { return .plain }
            // Resolved again here, so judged again: what the links lead to may have changed since
            // each was looked at.
            guard let canonical = Discovery.resolve(path) else { return .unresolved }
            if walk.unnamed, let refusal = containment(canonical) { return refusal }
            return .follow(canonical: canonical, owners: walk.owners)
        }

        /// Adds one component of a path to `walk`: nothing when it is no link; a failure when it
        /// is a link that does not pass.
        private func component(_ path: String, named: Bool, into walk: inout Walk) {
            var link = stat()
            guard lstat(path, &link) == 0 else {
                walk.failure = .unresolved
                return
            }
            guard (link.st_mode & S_IFMT) == S_IFLNK else { return }
            var target = stat()
            guard stat(path, &target) == 0, let real = Discovery.resolve(path) else {
                walk.failure = .unresolved
                return
            }
            walk.linked = true
            if link.st_uid != 0 && link.st_uid != target.st_uid {
                walk.failure = .refuse(
                    reason: "the link is owned by uid \(link.st_uid) and \(real) by uid \(target.st_uid): only "
                        + "root's links, or a link owned by its target's owner, are followed")
                return
            }
            if link.st_uid != 0 { walk.owners.insert(UInt32(link.st_uid)) }
            if !named {
                walk.unnamed = true
                if let refusal = containment(real) { walk.failure = refusal }
            }
        }

        /// Nil when `real` lies under one of the roots; else the refusal.
        private func containment(_ real: String) -> Verdict? {
            if roots.contains(where: { real == $0 || real.hasPrefix($0 == "/" ? "/" : $0 + "/") }) { return nil }
            return .refuse(
                reason:
                    "it leads to \(real), outside the source's directories (\(roots.sorted().joined(separator: ", "))); "
                    + "list its directory in the source's link_targets to follow it")
        }
    }
#endif
