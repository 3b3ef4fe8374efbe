import { test } from "node:test";
import assert from "node:assert/strict";
import { ago, bytes, clock, duration, metricValue, pathOf, traceURL } from "../src/format";

test("clock", () => {
  for (const [ms, want] of [
    [0, "0:00"],
    [5_400, "0:05"],
    [65_000, "1:05"],
    [3_725_000, "1:02:05"],
    [-10, "0:00"],
  ] as const)
    assert.equal(clock(ms), want);
});

test("ago", () => {
  const now = 1_000_000_000;
  assert.equal(ago(now - 2_000, now), "just now");
  assert.equal(ago(now - 45_000, now), "45s ago");
  assert.equal(ago(now - 5 * 60_000, now), "5m ago");
  assert.equal(ago(now - 3 * 3_600_000, now), "3h ago");
  assert.equal(ago(0, now), "—");
});

test("sizes and durations", () => {
  assert.equal(bytes(812), "812 B");
  assert.equal(bytes(4300), "4.2 KB");
  assert.equal(duration(850), "850 ms");
  assert.equal(duration(185_000), "3m 5s");
  assert.equal(metricValue("CLS", 0.1234), "0.123");
  assert.equal(metricValue("LCP", 2512), "2.51 s");
  assert.equal(metricValue("INP", 180.4), "180 ms");
  assert.equal(pathOf("https://a.example/x?y=1"), "/x?y=1");
});

test("traceURL fills the template and refuses none", () => {
  assert.equal(traceURL("https://tempo.example/trace/{trace_id}", "4bf92f"), "https://tempo.example/trace/4bf92f");
  assert.equal(traceURL("", "4bf92f"), null);
  assert.equal(traceURL("https://x/{trace_id}", ""), null);
  assert.equal(traceURL("https://x/static", "abc"), null);
  assert.equal(traceURL("https://x/{trace_id}?q={trace_id}", "a/b"), "https://x/a%2Fb?q=a%2Fb");
});
