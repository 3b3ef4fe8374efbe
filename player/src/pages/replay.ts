import { Replayer } from "rrweb";
import { get } from "../api";
import { h, mount } from "../dom";
import { ago, bytes, clock, duration, pathOf } from "../format";
import { buildMarkers, inactiveRanges, mergeSegments, startOffset, type APIEvent, type Marker, type RREvent } from "../timeline";
import { badge, empty, failure, loading, type Page } from "../ui";
import type { Session } from "./sessions";

interface SegmentInfo {
  segment: number;
  ts: number;
  end_ts: number;
  bytes: number;
}

export const speeds = [1, 2, 4, 8];

const markerIcons: Record<Marker["kind"], string> = { error: "✖", click: "●", navigation: "➜", request: "⇅" };
const markerTitles: Record<Marker["kind"], string> = { error: "Error", click: "Click", navigation: "Navigation", request: "Failed request" };

/** loadEvents returns the session's Rearview events: embedded in the
 * session answer when the server includes them, else from /events. */
async function loadEvents(sess: any, id: string, signal: AbortSignal): Promise<APIEvent[]> {
  if (Array.isArray(sess?.events)) return sess.events as APIEvent[];
  try {
    const r = await get<{ events: APIEvent[] }>("/api/v1/events", { session: id, limit: 1000 }, signal);
    return r.events ?? [];
  } catch {
    return [];
  }
}

/** loadSegments fetches the stored segments, a few at a time, in order. */
async function loadSegments(id: string, list: SegmentInfo[], signal: AbortSignal, progress: (done: number) => void): Promise<RREvent[]> {
  const out: RREvent[][] = new Array(list.length);
  let next = 0,
    done = 0;
  const worker = async () => {
    while (next < list.length) {
      const i = next++;
      out[i] = (await get<RREvent[]>(`/api/v1/sessions/${encodeURIComponent(id)}/segments/${list[i].segment}`, {}, signal)) ?? [];
      progress(++done);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return mergeSegments(out);
}

export async function replayPage(p: Page): Promise<void> {
  const id = p.params.id;
  const t = p.query.has("t") ? Number(p.query.get("t")) : null;
  mount(p.root, loading("Loading session"));
  let sess: Session & { events?: APIEvent[] };
  let segs: SegmentInfo[];
  try {
    const [s, sg] = await Promise.all([
      get<Session & { events?: APIEvent[] }>(`/api/v1/sessions/${encodeURIComponent(id)}`, {}, p.signal),
      get<{ segments: SegmentInfo[] }>(`/api/v1/sessions/${encodeURIComponent(id)}/segments`, {}, p.signal),
    ]);
    sess = s;
    segs = sg.segments ?? [];
  } catch (err) {
    if (!p.signal.aborted) mount(p.root, failure(err, "Replay"));
    return;
  }
  const events = await loadEvents(sess, id, p.signal);
  const head = h(
    "div",
    { class: "replay-head" },
    h("nav", { class: "crumbs" }, h("a", { href: "/player/sessions" }, "Sessions"), " / ", h("span", { class: "mono" }, id)),
    h(
      "div",
      { class: "session-facts" },
      h("span", { class: "mono" }, sess.user_id || "anonymous"),
      h("span", { title: sess.first_url }, pathOf(sess.first_url)),
      [sess.country, sess.device_class, sess.browser, sess.os].filter(Boolean).join(" · "),
      h("span", { title: new Date(sess.started_at).toLocaleString() }, ago(sess.started_at)),
      duration(sess.duration_ms ?? sess.last_seen - sess.started_at),
      sess.errors ? badge(`${sess.errors} error${sess.errors > 1 ? "s" : ""}`, "danger") : null,
      sess.rage_clicks ? badge(`${sess.rage_clicks} rage click${sess.rage_clicks > 1 ? "s" : ""}`, "warn") : null,
      sess.replay_bytes ? h("span", { class: "muted" }, bytes(sess.replay_bytes)) : null,
    ),
  );
  if (!segs.length) {
    mount(p.root, head, empty("No replay was recorded for this session.", "Replays are kept for sampled sessions and for sessions with an error."));
    return;
  }
  const status = h("div", { class: "state", role: "status" }, h("span", { class: "spinner" }), `Loading replay 0/${segs.length}…`);
  mount(p.root, head, status);
  let rr: RREvent[];
  try {
    rr = await loadSegments(id, segs, p.signal, (n) => (status.lastChild!.textContent = `Loading replay ${n}/${segs.length}…`));
  } catch (err) {
    if (!p.signal.aborted) mount(p.root, head, failure(err, "Replay"));
    return;
  }
  if (p.signal.aborted) return;
  if (rr.length < 2) {
    mount(p.root, head, empty("This replay has too few events to play."));
    return;
  }
  buildPlayer(p, head, rr, events, t);
}

function buildPlayer(p: Page, head: HTMLElement, rr: RREvent[], events: APIEvent[], t: number | null): void {
  const stage = h("div", { class: "stage", "aria-label": "Session replay" });
  const frame = h("div", { class: "stage-frame" });
  stage.appendChild(frame);
  const mainCol = h("div", { class: "replay-main" }, stage);
  const side = h("aside", { class: "replay-side" }, h("h2", null, "Timeline"));
  // rrweb needs its root in the document before it builds the iframe.
  mount(p.root, head, h("div", { class: "replay-layout" }, mainCol, side));

  const replayer = new Replayer(rr as any, { root: frame, speed: 1, skipInactive: true, showWarning: false, mouseTail: { strokeStyle: "rgba(99, 102, 241, 0.6)" }, triggerFocus: false, UNSAFE_replayCanvas: false });
  const meta = replayer.getMetaData();
  const start = meta.startTime,
    end = meta.endTime,
    total = Math.max(1, meta.totalTime);
  const markers = buildMarkers(rr, events, start, end);
  let playing = false;
  let speed = 1;
  let skip = true;

  // Controls.
  const playBtn = h("button", { type: "button", class: "play", "aria-label": "Play", title: "Play/pause (Space)" }, "▶");
  const timeLabel = h("span", { class: "time mono" }, `0:00 / ${clock(total)}`);
  const progress = h("div", { class: "progress" });
  const track = h("div", { class: "track", role: "slider", tabindex: 0, "aria-label": "Seek", "aria-valuemin": 0, "aria-valuemax": Math.round(total / 1000), "aria-valuenow": 0 }, progress);
  for (const [a, b] of inactiveRanges(rr)) {
    track.appendChild(h("div", { class: "inactive", style: `left:${(((a - start) / total) * 100).toFixed(3)}%;width:${(((b - a) / total) * 100).toFixed(3)}%`, title: `Inactive ${duration(b - a)}` }));
  }
  for (const m of markers) {
    track.appendChild(
      h("button", {
        type: "button",
        class: `marker marker-${m.kind}`,
        "data-kind": m.kind,
        style: `left:${(m.at * 100).toFixed(3)}%`,
        title: `${markerTitles[m.kind]} at ${clock(m.ts - start)}: ${m.label}`,
        "aria-label": `${markerTitles[m.kind]} at ${clock(m.ts - start)}`,
        onclick: (ev: Event) => {
          ev.stopPropagation();
          seek(Math.max(0, m.ts - start - 500));
        },
      }),
    );
  }
  const speedBtns = speeds.map((s) =>
    h("button", { type: "button", class: s === speed ? "speed active" : "speed", "data-speed": s, "aria-pressed": String(s === speed), title: `Speed ${s}× (key ${s})`, onclick: () => setSpeed(s) }, `${s}×`),
  );
  const skipBox = h("input", { type: "checkbox", checked: skip, id: "skip-inactive", onchange: (ev: Event) => setSkip((ev.target as HTMLInputElement).checked) });
  const controls = h(
    "div",
    { class: "controls" },
    playBtn,
    timeLabel,
    track,
    h("div", { class: "speeds", role: "group", "aria-label": "Speed" }, speedBtns),
    h("label", { class: "skip", title: "Skip inactivity (S)" }, skipBox, " Skip inactivity"),
  );
  const legend = h(
    "div",
    { class: "legend small muted" },
    (Object.keys(markerTitles) as Marker["kind"][]).map((k) => h("span", { class: `legend-item marker-${k}` }, h("i", { class: "dot" }), markerTitles[k])),
    h("span", { class: "keys" }, "Space play/pause · ←/→ 5 s · 1 2 4 8 speed · S skip"),
  );

  const list = h(
    "ol",
    { class: "event-list" },
    markers.length
      ? markers.map((m) =>
          h(
            "li",
            { class: `ev ev-${m.kind}` },
            h(
              "button",
              { type: "button", onclick: () => seek(Math.max(0, m.ts - start - 500)) },
              h("span", { class: `icon marker-${m.kind}`, "aria-hidden": "true" }, markerIcons[m.kind]),
              h("span", { class: "mono small when" }, clock(m.ts - start)),
              h("span", { class: "what" }, m.kind === "navigation" ? pathOf(m.label) || m.label : m.label),
            ),
          ),
        )
      : h("li", { class: "muted small" }, "No errors, clicks or navigations recorded."),
  );

  mainCol.append(controls, legend);
  side.appendChild(list);

  // Fit the recorded viewport into the stage.
  let vw = 1024,
    vh = 768;
  const first = rr.find((e) => e.type === 4 && e.data?.width);
  if (first) {
    vw = first.data.width;
    vh = first.data.height;
  }
  const fit = () => {
    const avail = stage.clientWidth || 800;
    const maxH = Math.max(240, window.innerHeight - 280);
    const scale = Math.min(1, avail / vw, maxH / vh);
    replayer.wrapper.style.transform = `scale(${scale})`;
    replayer.wrapper.style.transformOrigin = "top left";
    frame.style.width = `${vw * scale}px`;
    frame.style.height = `${vh * scale}px`;
  };
  replayer.on("resize", (d: any) => {
    vw = d.width;
    vh = d.height;
    fit();
  });
  const ro = new ResizeObserver(fit);
  ro.observe(stage);
  fit();

  const setPlaying = (v: boolean) => {
    playing = v;
    playBtn.textContent = v ? "❚❚" : "▶";
    playBtn.setAttribute("aria-label", v ? "Pause" : "Play");
    stage.classList.toggle("paused", !v);
  };
  const now = () => Math.min(total, Math.max(0, replayer.getCurrentTime()));
  function seek(offset: number) {
    const o = Math.min(Math.max(0, offset), total);
    if (playing) replayer.play(o);
    else replayer.pause(o);
    paint();
  }
  function toggle() {
    if (playing) {
      replayer.pause();
      setPlaying(false);
    } else {
      const at = now() >= total - 50 ? 0 : now();
      replayer.play(at);
      setPlaying(true);
    }
  }
  function setSpeed(s: number) {
    speed = s;
    replayer.setConfig({ speed });
    speedBtns.forEach((b) => {
      const on = Number(b.dataset.speed) === s;
      b.classList.toggle("active", on);
      b.setAttribute("aria-pressed", String(on));
    });
  }
  function setSkip(v: boolean) {
    skip = v;
    skipBox.checked = v;
    replayer.setConfig({ skipInactive: v });
  }
  replayer.on("finish", () => setPlaying(false));
  replayer.on("skip-start", () => stage.classList.add("skipping"));
  replayer.on("skip-end", () => stage.classList.remove("skipping"));
  playBtn.addEventListener("click", toggle);
  stage.addEventListener("click", toggle);

  const seekFromPointer = (ev: PointerEvent) => {
    const r = track.getBoundingClientRect();
    seek(((ev.clientX - r.left) / r.width) * total);
  };
  track.addEventListener("pointerdown", (ev) => {
    if ((ev.target as HTMLElement).classList.contains("marker")) return;
    seekFromPointer(ev);
    const move = (e: PointerEvent) => seekFromPointer(e);
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  });

  const onKey = (ev: KeyboardEvent) => {
    const tgt = ev.target as HTMLElement;
    if (ev.metaKey || ev.ctrlKey || ev.altKey || tgt.closest("input, textarea, select")) return;
    if (ev.key === " " || ev.key === "k") {
      if (tgt.closest("button") && ev.key === " ") return; // the button handles its own Space
      ev.preventDefault();
      toggle();
    } else if (ev.key === "ArrowLeft") {
      ev.preventDefault();
      seek(now() - 5000);
    } else if (ev.key === "ArrowRight") {
      ev.preventDefault();
      seek(now() + 5000);
    } else if (["1", "2", "4", "8"].includes(ev.key)) {
      setSpeed(Number(ev.key));
    } else if (ev.key === "s" || ev.key === "S") {
      setSkip(!skip);
    }
  };
  document.addEventListener("keydown", onKey);

  let raf = 0;
  function paint() {
    const c = now();
    progress.style.width = `${((c / total) * 100).toFixed(3)}%`;
    timeLabel.textContent = `${clock(c)} / ${clock(total)}`;
    track.setAttribute("aria-valuenow", String(Math.round(c / 1000)));
  }
  const loop = () => {
    paint();
    raf = requestAnimationFrame(loop);
  };
  raf = requestAnimationFrame(loop);

  p.cleanup(() => {
    cancelAnimationFrame(raf);
    document.removeEventListener("keydown", onKey);
    ro.disconnect();
    replayer.pause();
    replayer.destroy();
  });

  // Open at ?t= (an error's moment, with a short lead-in), paused so the
  // first frame is what the link pointed at.
  const off = startOffset(t, start, end);
  replayer.pause(off);
  setPlaying(false);
  stage.dataset.ready = "true";
  stage.dataset.offset = String(off);
  paint();
}
