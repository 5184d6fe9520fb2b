import Foundation
import MessagePack
import Testing

struct DecodingLimitTests {
    private func code(of bytes: [UInt8], limits: DecodingLimits = .default) -> MessagePackError.Code? {
        do {
            _ = try MessagePackDecoder(limits: limits).decodeFirst(Data(bytes))
            return nil
        } catch {
            return error.code
        }
    }

    @Test("100 000 nested arrays fail with a depth error")
    func deepNesting() {
        let bytes = [UInt8](repeating: 0x91, count: 100_000) + [0xc0]
        #expect(code(of: bytes) == .depthLimitExceeded)
        let maps = [UInt8]((0..<100_000).flatMap { _ in [0x81, 0xa1, 0x61] }) + [0xc0]
        #expect(code(of: maps) == .depthLimitExceeded)
    }

    @Test("nesting up to the limit is accepted")
    func nestingAtLimit() {
        let limits = DecodingLimits(maxDepth: 10)
        #expect(code(of: [UInt8](repeating: 0x91, count: 9) + [0xc0], limits: limits) == nil)
        #expect(code(of: [UInt8](repeating: 0x91, count: 10) + [0xc0], limits: limits) == nil)
        #expect(code(of: [UInt8](repeating: 0x91, count: 11) + [0xc0], limits: limits) == .depthLimitExceeded)
    }

    @Test("a container that declares more entries than the input holds fails without allocating")
    func hugeDeclaredCount() {
        #expect(code(of: [0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]) == .containerTooLarge)
        #expect(code(of: [0xdf, 0x00, 0x10, 0x00, 0x00, 0xc0, 0xc0]) == .truncated)
        #expect(code(of: [0xdc, 0x00, 0x10], limits: DecodingLimits(maxContainerCount: 8)) == .containerTooLarge)
    }

    @Test("str, bin and ext lengths beyond the input or the limit fail")
    func payloadLengths() {
        #expect(code(of: [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]) == .payloadTooLarge)
        #expect(code(of: [0xc6, 0x0f, 0xff, 0xff, 0xff, 0x00]) == .truncated)
        #expect(code(of: [0xc6, 0xff, 0xff, 0xff, 0xff, 0x00], limits: DecodingLimits(maxBinaryLength: 10)) == .payloadTooLarge)
        #expect(code(of: [0xc9, 0x00, 0x00, 0x10, 0x00, 0x01]) == .truncated)
    }

    @Test("the total number of values is bounded")
    func elementLimit() {
        let bytes: [UInt8] = [0x9f] + [UInt8](repeating: 0xc0, count: 15)
        #expect(code(of: bytes, limits: DecodingLimits(maxElements: 10)) == .tooManyElements)
        #expect(code(of: bytes, limits: DecodingLimits(maxElements: 16)) == nil)
    }

    @Test("input size is bounded")
    func inputSize() {
        #expect(code(of: [0xc4, 0x03, 1, 2, 3], limits: DecodingLimits(maxInputSize: 4)) == .inputTooLarge)
        #expect(code(of: []) == .truncated)
    }

    @Test("invalid bytes, UTF-8 and timestamps are rejected")
    func invalidInput() {
        #expect(code(of: [0xc1]) == .invalidFormatByte)
        #expect(code(of: [0xa2, 0xff, 0xfe]) == .invalidUTF8)
        #expect(code(of: [0xd5, 0xff, 0x00, 0x00]) == .invalidTimestamp)
        #expect(code(of: [0xd7, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]) == .invalidTimestamp)
    }

    @Test("errors say what is wrong and where")
    func errorMessages() throws {
        let error = try #require(throws: MessagePackError.self) {
            try MessagePackDecoder().decodeFirst(Data([0x92, 0x01]))
        }
        #expect(error.code == .truncated)
        #expect(error.offset == 0)
        #expect(error.description == "msgpack: container declares 2 entries but only 1 bytes remain (at byte 0)")
    }
}
