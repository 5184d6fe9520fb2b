@testable import ImJoyRPC
import MessagePack
import Testing

struct IncomingMessageTests {
    @Test("body keys replace header keys in place and new ones follow, for a small header and a large one")
    func mergesTheBodyIntoTheHeader() {
        for extraHeaderKeys in [0, IncomingMessage.scannedHeaderSize + 4] {
            var header: MessagePackMap = ["type": "method", "to": "ws/b", "method": "services.s.f", "session": "s1"]
            for i in 0..<extraHeaderKeys { header["h\(i)"] = .int(Int64(i)) }
            header.entries.append((key: .int(7), value: "non-string key"))
            let body: MessagePackMap = ["args": [1, 2], "method": "from-the-body", "promise": "*"]
            let message = IncomingMessage(header: header, body: body)
            #expect(message.merged.count == header.count + 2, "header of \(header.count)")
            #expect(message.merged.entries[2].key == "method" && message.merged["method"] == "from-the-body")
            #expect(message.merged.stringKeys.suffix(2) == ["args", "promise"])
            #expect(message.header["method"] == "services.s.f" && message.method == "services.s.f")
            #expect(message.merged.entries.contains { $0.key == .int(7) })
        }
    }

    @Test("without a body the merged map is the header")
    func noBody() {
        let header: MessagePackMap = ["type": "event", "to": "*"]
        #expect(IncomingMessage(header: header, body: nil).merged == header)
    }
}
