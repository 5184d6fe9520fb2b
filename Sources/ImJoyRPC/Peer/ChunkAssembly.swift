#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The chunks of one large message received through `message_cache` (PROTOCOL.md §2.6).
struct ChunkAssembly {
    /// Assemblies are kept per sender, so one peer cannot write into another's message.
    struct Key: Hashable {
        var sender: String
        var key: String
    }

    var chunks: [Int: Data] = [:]
    var totalSize = 0
    /// When the last chunk arrived; abandoned assemblies are dropped after a while.
    var lastActivity = ContinuousClock.now

    mutating func set(_ index: Int, _ data: Data, limit: Int) throws(RPCError) {
        totalSize += data.count - (chunks[index]?.count ?? 0)
        if totalSize > limit {
            throw RPCError(.tooLarge, "chunked message exceeds the limit of \(limit) bytes")
        }
        chunks[index] = data
        lastActivity = .now
    }

    /// The chunks joined in index order; fails when one is missing.
    func joined() throws(RPCError) -> Data {
        var data = Data(capacity: totalSize)
        for index in 0..<chunks.count {
            guard let chunk = chunks[index] else {
                throw RPCError(.invalidMessage, "chunk \(index) of \(chunks.count) is missing")
            }
            data.append(chunk)
        }
        return data
    }
}
