import { test } from "node:test";
import assert from "node:assert/strict";
import { buildQuery, sliceQuery, splitTerms, term, withTerm } from "../src/query";

test("term quotes values with spaces and drops quotes", () => {
  const cases: Array<[Parameters<typeof term>, string]> = [
    [["text", "Payment failed"], 'text:"Payment failed"'],
    [["selector", "#error-modal"], "selector:#error-modal"],
    [["text", 'say "hi" now'], 'text:"say hi now"'],
    [["url", "   "], ""],
    [["from", 1764028800000], "from:1764028800000"],
  ];
  for (const [args, want] of cases) assert.equal(term(...args), want);
});

test("buildQuery renders in a stable order", () => {
  assert.equal(
    buildQuery({ has: ["error", "rage"], url: "/checkout", text: "Payment failed", country: "IN", device: "mobile" }),
    'text:"Payment failed" url:/checkout country:IN device:mobile has:error has:rage',
  );
  assert.equal(buildQuery({}), "");
});

test("splitTerms keeps quoted phrases together", () => {
  assert.deepEqual(splitTerms('text:"Payment failed"  has:error url:/a'), ['text:"Payment failed"', "has:error", "url:/a"]);
});

test("withTerm replaces a key, accumulates has:, removes on empty", () => {
  assert.equal(withTerm("url:/a has:error", "url", "/b"), "has:error url:/b");
  assert.equal(withTerm("has:error", "has", "rage"), "has:error has:rage");
  assert.equal(withTerm("has:error", "has", "error"), "has:error");
  assert.equal(withTerm('text:"x y" url:/a', "url", ""), 'text:"x y"');
});

test("sliceQuery maps vitals dimensions to search keys", () => {
  assert.equal(sliceQuery({ device: "mobile", country: "IN" }, 1000, 2000), "country:IN device:mobile from:1000 to:2000");
  assert.equal(sliceQuery({ route: "/checkout/:id" }), "route:/checkout/:id");
  assert.equal(sliceQuery({ release: "abc", browser: "Chrome Mobile" }), 'browser:"Chrome Mobile"');
});
