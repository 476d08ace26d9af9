/// Reads an event's line again from its file, for a dead letter the API caused: the shipper
/// keeps no lines (memory between reading and sending is bounded in bytes), and such letters
/// are rare. The file must still be at the recorded path, with the recorded inode and first bytes
/// (not truncated and rewritten since); the line is cut at `maxBytes`.
enum LineRecall {
    static let maxBytes = 64 * 1024

    /// The line starting at `origin.offset` (without its `\n` or `\r\n`), or nil when the path no
    /// longer holds the file or the bytes cannot be read.
    static func line(at origin: EventOrigin) -> String? {
        guard let file = try? ReadableFile(path: origin.path), let status = try? file.status(),
            (try? origin.identity.matches(file, status: status)) == true, origin.offset < status.size
        else { return nil }
        let length = Int(min(UInt64(maxBytes), status.size - origin.offset))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(length, 1), alignment: 1)
        defer { buffer.deallocate() }
        guard
            let read = try? file.readFully(
                into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length]), at: origin.offset)
        else { return nil }
        var end = buffer[0..<read].firstIndex(of: UInt8(ascii: "\n")) ?? read
        if end > 0, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[0..<end]), as: UTF8.self)
    }
}
