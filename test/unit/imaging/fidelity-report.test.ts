import { describe, expect, it } from "vitest";
import { fidelityReport, type FidelityMeasurement } from "~/imaging/fidelity";

/** A measurement whose parts `changes` fell below the threshold (the numbers themselves do not matter here). */
const measured = (score: number, changes: FidelityMeasurement["changes"]): FidelityMeasurement => ({
  score,
  registration: 0.9,
  worstAreaChange: 0,
  colourCast: 0,
  worstStructure: 0,
  missingShare: 0,
  proportionChange: 0,
  changes,
  placement: null,
});

describe("what the merchant is told about a product held as altered", () => {
  it("names the change in the sentence stored with the image", () => {
    expect(fidelityReport(measured(0.42, ["missing-part"]))).toMatchObject({
      verdict: "altered",
      changes: ["missing-part"],
      message: "The product may have been altered: a part of it (a sleeve, strap or leg) looks missing. Review it before publishing.",
    });
  });

  it("calls a colour cast over the whole product a colour shift, not a changed patch", () => {
    expect(fidelityReport(measured(0.3, ["recoloured", "colour-cast"])).message).toBe(
      "The product may have been altered: its colour looks shifted. Review it before publishing.",
    );
  });

  it("says the product was not matched to the original only when nothing clearer explains it", () => {
    expect(fidelityReport(measured(0.2, ["print", "not-found"])).changes).toEqual(["print"]);
    expect(fidelityReport(measured(0, ["not-found"])).message).toBe(
      "The product may have been altered: it could not be matched to the original. Review it before publishing.",
    );
  });

  it("names at most the two clearest changes", () => {
    expect(fidelityReport(measured(0.1, ["proportions", "print", "missing-part"])).message).toBe(
      "The product may have been altered: it looks stretched or squashed and its print or text looks different. Review it before publishing.",
    );
  });

  it("names a stretch or a colour shift of the whole product first, before the parts it makes look missing or changed", () => {
    expect(fidelityReport(measured(0.3, ["print", "missing-part", "proportions"])).changes).toEqual(["proportions", "print"]);
    expect(fidelityReport(measured(0.1, ["missing-part", "not-found", "print", "colour-cast"])).message).toBe(
      "The product may have been altered: its colour looks shifted and a part of it (a sleeve, strap or leg) looks missing. Review it before publishing.",
    );
  });

  it("tells nothing about a product that passed, whatever part came close", () => {
    expect(fidelityReport(measured(0.6, ["missing-part"]))).toMatchObject({ verdict: "unchanged", changes: [], message: null });
  });
});
