// A bench run on a mistyped setting (BENCH_DRAWS=x: NaN) used to print empty figures that looked like results.
import { afterEach, describe, expect, it } from "vitest";
import { benchNumber } from "../../../bench/lib/bench-setting";

afterEach(() => {
  delete process.env.BENCH_TEST_SETTING;
});

describe("benchNumber", () => {
  it("takes the fallback when unset or blank, and the value when it is one", () => {
    expect(benchNumber("BENCH_TEST_SETTING", 5)).toBe(5);
    process.env.BENCH_TEST_SETTING = " ";
    expect(benchNumber("BENCH_TEST_SETTING", 5)).toBe(5);
    process.env.BENCH_TEST_SETTING = "3";
    expect(benchNumber("BENCH_TEST_SETTING", 5, { min: 1 })).toBe(3);
    process.env.BENCH_TEST_SETTING = "2.5";
    expect(benchNumber("BENCH_TEST_SETTING", 4, { fraction: true })).toBe(2.5);
  });

  it("stops the bench naming the variable when the value is not a number it can run on", () => {
    for (const [value, opts] of [
      ["x", {}],
      ["1.5", {}],
      ["0", { min: 1 }],
      ["-2", { fraction: true }],
      // A quota of 0 requests a second: the benches divide by it.
      ["0", { min: 0.1, fraction: true }],
    ] as const) {
      process.env.BENCH_TEST_SETTING = value;
      expect(() => benchNumber("BENCH_TEST_SETTING", 1, opts)).toThrow(`BENCH_TEST_SETTING must be a`);
      expect(() => benchNumber("BENCH_TEST_SETTING", 1, opts)).toThrow(`not "${value}"`);
    }
  });
});
