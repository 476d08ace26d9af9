#if canImport(Glibc)
    import Glibc

    /// A thin owner of one inotify instance (`inotify_init1(2)`), non-blocking and close-on-exec.
    ///
    /// Not thread-safe: it belongs to the thread that waits on it. Its descriptor is closed in
    /// `deinit`. Waiting is done with `poll(2)` together with a `Wakeup` so that a stop request
    /// interrupts the wait at once.
    public final class Inotify {
        /// A watch descriptor returned by `inotify_add_watch(2)`.
        public struct Watch: Hashable, Sendable {
            public var rawValue: Int32
            public init(rawValue: Int32) { self.rawValue = rawValue }
        }

        /// The `IN_*` event bits, both as a watch mask and as the mask of a received event.
        public struct Mask: OptionSet, Hashable, Sendable, CustomStringConvertible {
            public var rawValue: UInt32
            public init(rawValue: UInt32) { self.rawValue = rawValue }

            public static let modify = Mask(rawValue: UInt32(IN_MODIFY))
            public static let attrib = Mask(rawValue: UInt32(IN_ATTRIB))
            public static let closeWrite = Mask(rawValue: UInt32(IN_CLOSE_WRITE))
            public static let movedFrom = Mask(rawValue: UInt32(IN_MOVED_FROM))
            public static let movedTo = Mask(rawValue: UInt32(IN_MOVED_TO))
            public static let create = Mask(rawValue: UInt32(IN_CREATE))
            public static let delete = Mask(rawValue: UInt32(IN_DELETE))
            public static let deleteSelf = Mask(rawValue: UInt32(IN_DELETE_SELF))
            public static let moveSelf = Mask(rawValue: UInt32(IN_MOVE_SELF))
            /// Event-only: the kernel queue overflowed and events were lost (wd is -1).
            public static let queueOverflow = Mask(rawValue: UInt32(IN_Q_OVERFLOW))
            /// Event-only: the watch was removed (explicitly, or because its target went away).
            public static let ignored = Mask(rawValue: UInt32(IN_IGNORED))
            /// Event-only: the subject of the event is a directory.
            public static let isDirectory = Mask(rawValue: UInt32(IN_ISDIR))
            /// Watch-only: fail with ENOTDIR unless the path is a directory.
            public static let onlyDirectory = Mask(rawValue: UInt32(IN_ONLYDIR))

            public var description: String {
                let names: [(Mask, String)] = [
                    (.modify, "modify"), (.attrib, "attrib"), (.closeWrite, "close_write"), (.movedFrom, "moved_from"),
                    (.movedTo, "moved_to"), (.create, "create"), (.delete, "delete"), (.deleteSelf, "delete_self"),
                    (.moveSelf, "move_self"), (.queueOverflow, "q_overflow"), (.ignored, "ignored"),
                    (.isDirectory, "isdir"),
                ]
                return names.filter { contains($0.0) }.map(\.1).joined(separator: "|")
            }
        }

        /// One decoded `struct inotify_event`.
        public struct Event: Hashable, Sendable {
            public var watch: Watch
            public var mask: Mask
            /// Pairs an IN_MOVED_FROM with its IN_MOVED_TO.
            public var cookie: UInt32
            /// Name of the entry inside the watched directory; empty for events on the watch itself.
            public var name: String
        }

        /// The inotify descriptor, for `poll(2)`.
        public let fileDescriptor: Int32
        /// Reused read buffer; sized for many events (each is 16 bytes plus a padded name).
        private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        /// Creates the instance with `IN_NONBLOCK | IN_CLOEXEC`.
        public init() throws(SyscallError) {
            fileDescriptor = try syscallRetrying("inotify_init1") { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
        }

        deinit {
            close(fileDescriptor)
        }

        /// Watches `path` for `mask` (`inotify_add_watch(2)`); adding the same path again returns the
        /// same watch with the new mask.
        public func addWatch(path: String, mask: Mask) throws(SyscallError) -> Watch {
            let wd = try syscallRetrying("inotify_add_watch", path: path) {
                inotify_add_watch(fileDescriptor, path, mask.rawValue)
            }
            return Watch(rawValue: wd)
        }

        /// Removes a watch (`inotify_rm_watch(2)`). EINVAL (already gone, e.g. its directory was
        /// deleted) is not an error: the caller wanted it gone.
        public func removeWatch(_ watch: Watch) throws(SyscallError) {
            do {
                _ = try syscallRetrying("inotify_rm_watch") { inotify_rm_watch(fileDescriptor, watch.rawValue) }
            } catch  where error.errno.rawValue == EINVAL {
                return
            }
        }

        /// Waits up to `timeoutMs` (-1: forever) until events are readable or `wakeup` is signalled.
        /// Returns true when inotify has events to read.
        public func wait(timeoutMs: Int32, wakeup: Wakeup?) throws(SyscallError) -> Bool {
            var fds = [pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)]
            if let wakeup { fds.append(pollfd(fd: wakeup.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
            let count = fds.count
            _ = try syscallRetrying("poll") { poll(&fds, nfds_t(count), timeoutMs) }
            return fds[0].revents & Int16(POLLIN) != 0
        }

        /// Reads and decodes every event queued now; returns an empty array when there is none.
        public func readEvents() throws(SyscallError) -> [Event] {
            var events: [Event] = []
            while true {
                let fd = fileDescriptor
                let count = buffer.count
                let n: Int
                do {
                    n = try syscallRetrying("read(inotify)") {
                        buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, count) }
                    }
                } catch  where error.errno == .wouldBlock {
                    return events
                }
                if n <= 0 { return events }
                buffer.withUnsafeBytes { Inotify.decode(UnsafeRawBufferPointer(rebasing: $0[0..<n]), into: &events) }
            }
        }

        /// Decodes a buffer of packed `struct inotify_event` records (header, then `len` bytes of
        /// NUL-padded name).
        static func decode(_ bytes: UnsafeRawBufferPointer, into events: inout [Event]) {
            let headerSize = MemoryLayout<inotify_event>.size
            var position = 0
            while position + headerSize <= bytes.count {
                let wd = bytes.loadUnaligned(fromByteOffset: position, as: Int32.self)
                let mask = bytes.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self)
                let cookie = bytes.loadUnaligned(fromByteOffset: position + 8, as: UInt32.self)
                let length = Int(bytes.loadUnaligned(fromByteOffset: position + 12, as: UInt32.self))
                let nameStart = position + headerSize
                let nameEnd = min(nameStart + length, bytes.count)
                var name = ""
                if nameEnd > nameStart {
                    let raw = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<nameEnd])
                    let used = raw.firstIndex(of: 0).map { $0 - raw.startIndex } ?? raw.count
                    name = String(
                        decoding: UnsafeRawBufferPointer(rebasing: raw[raw.startIndex..<raw.startIndex + used]),
                        as: UTF8.self)
                }
                events.append(Event(watch: Watch(rawValue: wd), mask: Mask(rawValue: mask), cookie: cookie, name: name))
                position = nameStart + length
            }
        }
    }

#endif
