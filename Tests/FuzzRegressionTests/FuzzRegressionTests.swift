import Foundation
import FuzzHarnesses
import Testing

/// Every fuzz target over its kept corpus (`Fuzz/Corpus/TARGET`: the seeds and every input that once crashed or hung),
/// then a short random mutation run from it: what libFuzzer runs for minutes in `scripts/fuzz.sh`, here in seconds
/// and without coverage guidance, so that a change that breaks an invariant on a known input fails the tests.
///
/// The runs are CPU-bound: they go one at a time, on a dispatch thread, so that they never hold Swift concurrency's
/// few threads, which the relay nodes of the suites running beside them need.
@Suite(.serialized) struct FuzzRegressionTests {
    static let corpusRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus")

    static func corpus(_ target: FuzzTarget) throws -> [[UInt8]] {
        let directory = corpusRoot.appendingPathComponent(target.rawValue)
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map {
            Array(try Data(contentsOf: directory.appendingPathComponent($0)))
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func theKeptCorpusRunsClean(_ target: FuzzTarget) async throws {
        let inputs = try Self.corpus(target)
        #expect(inputs.count >= 5, "Fuzz/Corpus/\(target.rawValue) holds its seeds")
        await Self.offThePool { for input in inputs { target.run(input) } }
    }

    /// Seeded, so that a failure repeats: flips, inserts, deletes and splices over the corpus.
    @Test(arguments: FuzzTarget.allCases)
    func aShortMutationRunStaysClean(_ target: FuzzTarget) async throws {
        let inputs = try Self.corpus(target)
        let runs = await Self.offThePool { () -> Int in
            var random = SplitMix64(seed: 0x6368_6174_7265_6c61)
            let deadline = ContinuousClock.now + .seconds(2)
            var runs = 0
            while ContinuousClock.now < deadline {
                var input = inputs[Int(random.next() % UInt64(inputs.count))]
                for _ in 0..<(1 + Int(random.next() % 8)) { Self.mutate(&input, with: &random, corpus: inputs) }
                target.run(input)
                runs += 1
            }
            return runs
        }
        #expect(runs > 100)
    }

    static func offThePool<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }

    static func mutate(_ input: inout [UInt8], with random: inout SplitMix64, corpus: [[UInt8]]) {
        let position = input.isEmpty ? 0 : Int(random.next() % UInt64(input.count))
        switch random.next() % 5 {
        case 0 where !input.isEmpty: input[position] ^= UInt8(truncatingIfNeeded: 1 << (random.next() % 8))
        case 1: input.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
        case 2 where !input.isEmpty: input.remove(at: position)
        case 3:
            let other = corpus[Int(random.next() % UInt64(corpus.count))]
            input.insert(contentsOf: other.prefix(Int(random.next() % 64)), at: position)
        default: if !input.isEmpty { input[position] = [0, 0x7F, 0x80, 0xFF, 0x22, 0x5C, 0x0D, 0x0A][Int(random.next() % 8)] }
        }
    }
}

/// A small, seedable generator: the same run every time.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
