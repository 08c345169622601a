import Kernels
import XCTest

final class NumericsTests: XCTestCase {
    func testFP8RoundTripsEveryCode() {
        for b in 0...255 where b & 0x7F != 0x7F {
            let v = FP8.decode(UInt8(b))
            XCTAssertEqual(FP8.encode(v) & (v == 0 ? 0x7F : 0xFF), UInt8(b) & (v == 0 ? 0x7F : 0xFF), "code \(b) = \(v)")
        }
        XCTAssertTrue(FP8.decode(0x7F).isNaN)
        XCTAssertEqual(FP8.decode(0x7E), 448)
        XCTAssertEqual(FP8.decode(0x01), 0x1p-9)
    }

    /// Round-to-nearest-even cases checked against torch's e4m3fn cast (spec §7.1).
    func testFP8RoundsToNearestEven() {
        XCTAssertEqual(FP8.decode(FP8.encode(1.0625)), 1.0)
        XCTAssertEqual(FP8.decode(FP8.encode(1.1875)), 1.25)
        XCTAssertEqual(FP8.decode(FP8.encode(0x1p-10)), 0)
        XCTAssertEqual(FP8.decode(FP8.encode(3 * 0x1p-10)), 0x1p-8)
        XCTAssertEqual(FP8.decode(FP8.encode(1000)), 448)
        XCTAssertEqual(FP8.decode(FP8.encode(-1000)), -448)
    }

    func testPowerOfTwoScale() {
        XCTAssertEqual(FP8.powerOfTwoScale(amax: 448), 1)
        XCTAssertEqual(FP8.powerOfTwoScale(amax: 449), 2)
        XCTAssertEqual(FP8.powerOfTwoScale(amax: 0), FP8.powerOfTwoScale(amax: 1e-4))
        XCTAssertEqual(FP8.powerOfTwoScale(amax: 1), 0x1p-8)  // 1/448 → 2^ceil(-8.8)
    }

    func testBF16RoundsToNearestEven() {
        XCTAssertEqual(BF16.round(1 + 0x1p-8), 1)            // tie → even
        XCTAssertEqual(BF16.round(1 + 3 * 0x1p-8), 1 + 0x1p-6)  // tie → even (up)
        XCTAssertEqual(BF16.round(1 + 0x1p-7), 1 + 0x1p-7)
    }

    func testHadamardMatchesExplicitMatrix() {
        for n in [1, 2, 16, 128] {
            var x = (0..<n).map { Float(sin(Double($0) * 1.7)) }
            let expected = naiveHadamard(x)
            hadamard(&x, offset: 0, count: n)
            for i in 0..<n { XCTAssertEqual(x[i], expected[i], accuracy: 1e-5) }
        }
    }

    func testTopKMatchesSortWithTiesToLowerIndex() {
        var rng = SystemRandomNumberGenerator()
        for n in [1, 7, 100, 1000] {
            for k in [0, 1, 3, n / 2, n - 1, n, n + 5] {
                // Few distinct values, so many ties at the boundary.
                let scores = (0..<n).map { _ in Float(Int.random(in: 0..<5, using: &rng)) }
                XCTAssertEqual(scores.withUnsafeBufferPointer { topK($0, k) }, naiveTopK(scores, k), "n \(n) k \(k)")
            }
        }
    }

    func testPackedRowsRoundTrip() {
        let values = (0..<200).map { Float(sin(Double($0))) * 3 }
        for format in [PackedRows.Format.f32, .bf16, .fp8] {
            let rows = PackedRows(format: format, width: 200, capacity: 3)
            rows.set(2, values[...])
            let tolerance: Float = format == .f32 ? 0 : format == .bf16 ? 3 * 0x1p-8 : 3 * 0x1p-4
            for (a, b) in zip(rows.row(2), values) { XCTAssertEqual(a, b, accuracy: abs(b) * tolerance + 1e-6, "\(format)") }
        }
    }
}
