import Foundation
import MessagePack
import Testing

struct ScannerTests {
    static func scan(_ bytes: [UInt8]) throws(MessagePackError) -> (entries: [MessagePackEntrySpan], end: Int) {
        let result: Result<([MessagePackEntrySpan], Int), MessagePackError> = bytes.withUnsafeBytes { raw in
            do throws(MessagePackError) {
                return .success(try MessagePackScanner.mapEntries(of: raw))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    @Test("map entries are byte ranges of the input: each key and value re-decodes to the original")
    func entryRanges() throws {
        let value: MessagePackValue = [
            "short": "s", "long": .string(String(repeating: "x", count: 300)), "bin": .binary(Data(count: 70_000)),
            "nested": ["a": [1, -5, 2.5, .nil, true]], "n": .uint(1 << 40),
        ]
        let bytes = MessagePackEncoder.encodeBytes(value) + [0xc0]  // a second value follows the map
        let (entries, end) = try Self.scan(bytes)
        #expect(end == bytes.count - 1)
        let map = try #require(value.mapValue)
        #expect(entries.count == map.count)
        for (span, entry) in zip(entries, map.entries) {
            #expect(try MessagePackDecoder().decode(Data(bytes[span.key])) == entry.key)
            #expect(try MessagePackDecoder().decode(Data(bytes[span.value])) == entry.value)
        }
        bytes.withUnsafeBytes { raw in
            #expect(MessagePackScanner.string(at: entries[0].key, in: raw) == "short")
            #expect(MessagePackScanner.string(at: entries[1].value, in: raw) == String(repeating: "x", count: 300))
            #expect(MessagePackScanner.string(at: entries[2].value, in: raw) == nil, "bin is not a str")
            #expect(MessagePackScanner.stringPayload(of: entries[4].value, in: raw) == nil)
        }
    }

    @Test("str8, str16 and str32 payloads are found; invalid UTF-8 reads as nil")
    func stringPayloads() {
        let cases: [([UInt8], String?)] = [
            ([0xa3, 0x61, 0x62, 0x63], "abc"),
            ([0xd9, 0x02, 0x68, 0x69], "hi"),
            ([0xda, 0x00, 0x01, 0x7a], "z"),
            ([0xdb, 0x00, 0x00, 0x00, 0x01, 0x79], "y"),
            ([0xa2, 0xff, 0xfe], nil),
            ([0xc4, 0x01, 0x61], nil),
        ]
        for (bytes, expected) in cases {
            bytes.withUnsafeBytes { raw in
                #expect(MessagePackScanner.string(at: 0..<raw.count, in: raw) == expected, "\(bytes)")
            }
        }
    }

    @Test("not a map, truncated, too deep and impossible bytes are errors, never a crash", arguments: [
        ([0x93, 0x01, 0x02, 0x03], MessagePackError.Code.invalidFormatByte),
        ([0x82, 0xa1, 0x61], .truncated),
        ([0x81, 0xa1, 0x61] + [UInt8](repeating: 0x91, count: 200) + [0xc0], .depthLimitExceeded),
        ([0x81, 0xc1, 0x00], .invalidFormatByte),
        ([0xdf, 0xff, 0xff, 0xff, 0xff], .containerTooLarge),
        ([], .truncated),
    ])
    func malformed(bytes: [UInt8], code: MessagePackError.Code) {
        #expect {
            _ = try Self.scan(bytes)
        } throws: { error in
            (error as? MessagePackError)?.code == code
        }
    }
}
