import { test } from "node:test";
import assert from "node:assert/strict";
import { buildMarkers, inactiveRanges, liveBaseline, liveStart, mergeSegments, startOffset, type APIEvent, type RREvent } from "../src/timeline";

const T = 1_764_028_800_000;

const rr: RREvent[] = [
  { type: 4, timestamp: T + 100, data: { href: "https://shop.example.com/cart", width: 1024, height: 640 } },
  { type: 2, timestamp: T + 110, data: { node: {} } },
  { type: 3, timestamp: T + 1000, data: { source: 2, type: 2, id: 9 } }, // click
  { type: 3, timestamp: T + 1100, data: { source: 2, type: 1, id: 9 } }, // mouse down: not a click
  { type: 3, timestamp: T + 1200, data: { source: 1, positions: [] } },
  { type: 4, timestamp: T + 5000, data: { href: "https://shop.example.com/checkout", width: 1024, height: 640 } },
  { type: 3, timestamp: T + 20000, data: { source: 0, adds: [] } },
];

const events: APIEvent[] = [
  {
    id: "e1",
    kind: "error",
    ts: T + 6000,
    event: {
      error: {
        type: "TypeError",
        value: "x is undefined",
        breadcrumbs: [
          { ts: T + 5500, category: "fetch", http: { method: "POST", url: "/api/pay", status: 502 } },
          { ts: T + 5400, category: "fetch", http: { method: "GET", url: "/api/cart", status: 200 } },
        ],
      },
    },
  },
  // The same failed request again as its own breadcrumb: one marker only.
  { id: "b1", kind: "breadcrumb", ts: T + 5500, payload: { breadcrumb: { ts: T + 5500, category: "fetch", http: { method: "POST", url: "/api/pay", status: 502 } } } },
  // A navigation breadcrumb next to the recorded Meta event is a duplicate.
  { id: "b2", kind: "breadcrumb", ts: T + 5200, payload: { breadcrumb: { category: "navigation", url: "https://shop.example.com/checkout" } } },
  // A click breadcrumb with no recorded click nearby fills in.
  { id: "b3", kind: "breadcrumb", ts: T + 9000, payload: { breadcrumb: { category: "ui.click", selector: "button#pay" } } },
  { id: "b4", kind: "breadcrumb", ts: T + 9500, payload: { breadcrumb: { category: "xhr", level: "error", http: { method: "GET", url: "/api/offline" } } } },
  // Outside the recording: dropped.
  { id: "e2", kind: "error", ts: T + 999_999, payload: { error: { type: "Late" } } },
];

test("buildMarkers: kinds, order, positions, dedupe", () => {
  const ms = buildMarkers(rr, events, T + 100, T + 20000);
  assert.deepEqual(
    ms.map((m) => [m.kind, m.ts - T]),
    [
      ["navigation", 100],
      ["click", 1000],
      ["navigation", 5000],
      ["request", 5500],
      ["error", 6000],
      ["click", 9000],
      ["request", 9500],
    ],
  );
  assert.equal(ms[0].at, 0);
  const err = ms.find((m) => m.kind === "error")!;
  assert.equal(err.label, "TypeError: x is undefined");
  assert.equal(err.ref, "e1");
  assert.ok(Math.abs(err.at - 5900 / 19900) < 1e-9);
  assert.equal(ms[3].label, "POST /api/pay → 502");
  assert.equal(ms[5].label, "Click button#pay");
  assert.equal(ms[6].label, "GET /api/offline → failed");
  for (const m of ms) assert.ok(m.at >= 0 && m.at <= 1);
});

test("buildMarkers: empty inputs", () => {
  assert.deepEqual(buildMarkers([], [], T, T), []);
});

test("inactiveRanges finds gaps without activity", () => {
  assert.deepEqual(inactiveRanges(rr, 5000), [[T + 5000, T + 20000]]);
  assert.deepEqual(inactiveRanges(rr, 60000), []);
});

test("startOffset leads in and clamps", () => {
  const cases: Array<[number | null, number]> = [
    [null, 0],
    [T + 6000, 6000 - 2000 - 100],
    [T, 0], // before the recording
    [T + 10_000_000, 19900], // after it
    [Number.NaN, 0],
  ];
  for (const [t, want] of cases) assert.equal(startOffset(t, T + 100, T + 20000), want, `t=${t}`);
});

test("mergeSegments orders events across segments", () => {
  const a: RREvent[] = [{ type: 4, timestamp: 3 }, { type: 2, timestamp: 5 }];
  const b: RREvent[] = [{ type: 3, timestamp: 1 }, { type: 3, timestamp: 5, data: { n: 2 } }];
  assert.deepEqual(
    mergeSegments([a, b]).map((e) => [e.timestamp, e.type]),
    [
      [1, 3],
      [3, 4],
      [5, 2],
      [5, 3],
    ],
  );
});

test("liveBaseline renders old snapshots at once and trails real time", () => {
  const now = T + 600_000;
  // A snapshot from ten minutes ago: baseline is now - buffer, not its start.
  assert.equal(liveBaseline(T, now, 3000), now - 3000);
  // A fresh snapshot: every one of its events still applies at once.
  assert.equal(liveBaseline(now - 1000, now, 3000), now - 999);
  // A client clock ahead of the viewer's.
  assert.equal(liveBaseline(now + 5000, now, 3000), now + 5001);
});

test("liveStart starts at the last full snapshot and its meta", () => {
  const cases: Array<[string, RREvent[], number[] | null]> = [
    ["nothing yet", [], null],
    ["incremental only", [{ type: 3, timestamp: 1 }, { type: 3, timestamp: 2 }], null],
    ["meta then snapshot", [{ type: 3, timestamp: 1 }, { type: 4, timestamp: 2 }, { type: 2, timestamp: 3 }, { type: 3, timestamp: 4 }], [2, 3, 4]],
    ["snapshot without meta", [{ type: 3, timestamp: 1 }, { type: 2, timestamp: 3 }], [3]],
    ["the later of two", [{ type: 4, timestamp: 1 }, { type: 2, timestamp: 2 }, { type: 4, timestamp: 5 }, { type: 2, timestamp: 6 }, { type: 3, timestamp: 7 }], [5, 6, 7]],
  ];
  for (const [name, events, want] of cases) {
    const got = liveStart(events);
    assert.deepEqual(got && got.map((e) => e.timestamp), want, name);
  }
});
