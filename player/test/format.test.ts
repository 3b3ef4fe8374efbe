import { test } from "node:test";
import assert from "node:assert/strict";
import { ago, alertValue, bytes, clock, deliveryState, duration, metricValue, pathOf, span, traceURL, webhookHost } from "../src/format";

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

test("span picks the largest whole unit", () => {
  for (const [ms, want] of [
    [5 * 60_000, "5 min"],
    [90 * 60_000, "90 min"],
    [3_600_000, "1 h"],
    [6 * 3_600_000, "6 h"],
    [7 * 86_400_000, "7 d"],
    [1500, "2 s"],
    [0, "—"],
    [-5, "—"],
  ] as const)
    assert.equal(span(ms), want);
});

test("webhookHost hides the secret path", () => {
  assert.equal(webhookHost("https://hooks.slack.com/services/T000/B000/XXXX"), "hooks.slack.com/…");
  assert.equal(webhookHost("http://127.0.0.1:9000"), "127.0.0.1:9000");
  assert.equal(webhookHost("https://example.com/?token=s3cret"), "example.com/…");
  assert.equal(webhookHost(""), "");
  assert.equal(webhookHost("not a url"), "(invalid URL)");
});

test("alertValue compares with baseline or threshold", () => {
  assert.equal(alertValue("error_rate", 60, 2.5), "60 errors vs 2.5 baseline (24.0×)");
  assert.equal(alertValue("error_rate", 12, 0), "12 errors · no baseline");
  assert.equal(alertValue("vital_p75", 3120, 2500, "LCP"), "p75 3.12 s > 2.50 s");
  assert.equal(alertValue("vital_p75", 0.31, 0.1, "CLS"), "p75 0.310 > 0.100");
  assert.equal(alertValue("vital_p75", 0.31, 0.1), "p75 0.31 > 0.1");
  assert.equal(alertValue("new_issue", 1764028800000, 0), "—");
});

test("deliveryState", () => {
  assert.equal(deliveryState({ delivered: true, attempts: 2 }), "delivered");
  assert.equal(deliveryState({ delivered: false, attempts: 0, next_attempt_at: 5 }), "pending");
  assert.equal(deliveryState({ delivered: false, attempts: 2, next_attempt_at: 5, error: "webhook: status 500" }), "retrying");
  assert.equal(deliveryState({ delivered: false, attempts: 5, error: "webhook: status 500" }), "failed");
  assert.equal(deliveryState({ delivered: false, error: "webhook: status 500" }), "failed");
  assert.equal(deliveryState({ delivered: false }), "none");
});
