/// Path arithmetic on text (no file system calls), shared by the tailer, the config checks and
/// the atomic writes.
enum PathText {
    /// The directory part of `path`: "/" for a top-level entry, "." for a bare name.
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
