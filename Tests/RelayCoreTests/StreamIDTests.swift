import ChatProtocol
import RelayCore
import Testing

@Suite struct StreamIDTests {
    @Test func parsesWhatRedisWritesAndNothingElse() {
        #expect(StreamID("1732700000000-7") == StreamID(milliseconds: 1_732_700_000_000, sequence: 7))
        #expect(StreamID("17") == StreamID(milliseconds: 17, sequence: 0))
        #expect(StreamID(utf8: Array("5-0".utf8)) == StreamID(milliseconds: 5, sequence: 0))
        for bad in ["", "-", "-1", "1-", "1-2-3", "a-1", "1-b", " 1-2", "99999999999999999999-0", "1-99999999999999999999"] {
            #expect(StreamID(bad) == nil, "\(bad)")
        }
        #expect(StreamID("1-10")! > StreamID("1-9")!)
        #expect(StreamID("2-0")! > StreamID("1-99")!)
        #expect(StreamID.before(milliseconds: 5) < StreamID("5-0")!)
    }
}
