import Testing
@testable import AgentProtocol

/// Drains every complete payload from `decoder`.
private func drain(_ decoder: inout FrameDecoder) throws -> [[UInt8]] {
    var payloads: [[UInt8]] = []
    while let payload = try decoder.next() {
        payloads.append(payload)
    }
    return payloads
}

/// The error from `decoder.next()`, or nil if it did not throw.
private func nextFailure(_ decoder: inout FrameDecoder) -> FrameError? {
    do throws(FrameError) {
        _ = try decoder.next()
        return nil
    } catch {
        return error
    }
}

private func header(_ length: UInt32) -> [UInt8] {
    [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
}

@Suite("Frames")
struct FrameTests {
    @Test("encoding prefixes the payload with its big-endian length")
    func encodeHeader() {
        #expect(Frame.encode(payload: [1, 2, 3]) == [0, 0, 0, 3, 1, 2, 3])
        #expect(Array(Frame.encode(payload: [UInt8](repeating: 7, count: 0x01_02_03)).prefix(4)) == [0, 1, 2, 3])
    }

    @Test("encoding a value frames its compact JSON")
    func encodeValue() {
        let value: JSONValue = ["op": "get", "n": 1]
        #expect(Frame.encode(value) == header(18) + Array(#"{"op":"get","n":1}"#.utf8))
    }

    @Test("a value survives encode, decode and parse")
    func roundTrip() throws {
        let value: JSONValue = ["token": "abc", "expires": 1_700_000_000, "scopes": ["a", "b"]]
        var decoder = FrameDecoder()
        decoder.append(Frame.encode(value))
        let payload = try #require(try decoder.next())
        #expect(try JSONValue.parse(payload) == value)
        #expect(try decoder.next() == nil)
        #expect(!decoder.hasPartialFrame)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("bytes fed one at a time produce each frame exactly when complete")
    func byteByByte() throws {
        let frames = [Array("first".utf8), Array("second frame".utf8), [0x7B, 0x7D]]
        let stream = frames.flatMap { Frame.encode(payload: $0) }
        var decoder = FrameDecoder()
        var received: [[UInt8]] = []
        for byte in stream {
            decoder.append([byte])
            received += try drain(&decoder)
        }
        #expect(received == frames)
        #expect(!decoder.hasPartialFrame)
    }

    @Test("several frames in one append all come out in order")
    func manyFramesAtOnce() throws {
        let frames = (1...50).map { index in [UInt8](repeating: UInt8(index), count: index) }
        var decoder = FrameDecoder()
        decoder.append(frames.flatMap { Frame.encode(payload: $0) })
        #expect(try drain(&decoder) == frames)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("a long stream in uneven chunks decodes intact")
    func unevenChunks() throws {
        var frames: [[UInt8]] = []
        var seed: UInt32 = 12345
        func random(_ bound: UInt32) -> Int {
            seed = seed &* 1_664_525 &+ 1_013_904_223
            return Int(seed >> 8 % bound) % Int(bound)
        }
        for index in 0..<400 {
            frames.append([UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 1 + random(3000)))
        }
        let stream = frames.flatMap { Frame.encode(payload: $0) }
        var decoder = FrameDecoder()
        var received: [[UInt8]] = []
        var offset = 0
        while offset < stream.count {
            let end = min(stream.count, offset + 1 + random(5000))
            decoder.append(stream[offset..<end])
            offset = end
            received += try drain(&decoder)
            #expect(decoder.bufferedByteCount < 3000 + Frame.headerBytes + 5000)
        }
        #expect(received == frames)
    }

    @Test("bytes from a raw buffer are appended like a sequence")
    func rawBuffer() throws {
        let stream = Frame.encode(payload: Array("raw".utf8)) + Frame.encode(payload: [1])
        var decoder = FrameDecoder()
        stream.withUnsafeBytes { decoder.append($0) }
        #expect(try drain(&decoder) == [Array("raw".utf8), [1]])
    }

    @Test("a zero-length header throws as soon as it arrives")
    func zeroLength() {
        var decoder = FrameDecoder()
        decoder.append([0, 0, 0])
        #expect(nextFailure(&decoder) == nil)
        decoder.append([0])
        #expect(nextFailure(&decoder) == .zeroLength)
    }

    @Test("a header over the limit throws before any body arrives", arguments: [
        UInt32(Frame.maxPayloadBytes + 1), UInt32.max,
    ])
    func tooLong(length: UInt32) {
        var decoder = FrameDecoder()
        decoder.append(header(length))
        #expect(nextFailure(&decoder) == .tooLong(length))
        #expect(nextFailure(&decoder) == .tooLong(length))
    }

    @Test("a payload of exactly the maximum length is accepted")
    func exactlyMax() throws {
        let payload = [UInt8](repeating: 0x20, count: Frame.maxPayloadBytes)
        var decoder = FrameDecoder()
        decoder.append(Frame.encode(payload: payload))
        #expect(try decoder.next() == payload)
    }

    @Test("a custom maximum is enforced")
    func customMaximum() throws {
        var decoder = FrameDecoder(maxPayloadBytes: 8)
        decoder.append(Frame.encode(payload: [UInt8](repeating: 1, count: 8)))
        #expect(try decoder.next()?.count == 8)
        decoder.append(header(9))
        #expect(nextFailure(&decoder) == .tooLong(9))
    }

    @Test("a truncated frame is reported as partial")
    func truncated() throws {
        var decoder = FrameDecoder()
        #expect(!decoder.hasPartialFrame)
        decoder.append([0, 0])
        #expect(decoder.hasPartialFrame)
        #expect(try decoder.next() == nil)
        decoder.append([0, 5, 1, 2])
        #expect(decoder.hasPartialFrame)
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedByteCount == 6)
        decoder.append([3, 4, 5])
        #expect(!decoder.hasPartialFrame)
        #expect(try decoder.next() == [1, 2, 3, 4, 5])
        #expect(!decoder.hasPartialFrame)
    }

    @Test("payloads are returned whether or not they are valid JSON")
    func notJSON() throws {
        let garbage: [UInt8] = [0xFF, 0x00, 0x7B]
        var decoder = FrameDecoder()
        decoder.append(Frame.encode(payload: garbage))
        #expect(try decoder.next() == garbage)
    }

    @Test("errors describe themselves")
    func errorDescriptions() {
        #expect(FrameError.zeroLength.description == "frame with zero length")
        #expect(FrameError.tooLong(300_000).description == "frame length 300000 exceeds the limit")
    }
}

@Suite("a success frame around a result serialized beforehand")
struct SerializedSuccessTests {
    @Test("is byte for byte the frame of the same success built from values", arguments: [Int64(0), 1, 42, -7, .max])
    func sameBytes(id: Int64) {
        let result: JSONObject = ["account": "work", "account_id": 3, "access_token": "sk-ant-oat01-a\"b\\c",
                                  "expires_at": .null, "scopes": ["user:inference"]]
        let expected = Frame.encode(Response.success(rpcID: id, result))
        let fast = Response.successFrame(rpcID: id, serializedResult: JSONValue.object(result).serialized())
        #expect(fast == expected)
    }
}
