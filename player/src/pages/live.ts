import { Replayer } from "rrweb";
import { liveURL } from "../api";
import { h, mount } from "../dom";
import { ago, pathOf } from "../format";
import { liveBaseline, liveStart } from "../timeline";
import { empty, header, table, type Page } from "../ui";

interface LiveSession {
  id: string;
  project?: string;
  region?: string;
  country?: string;
  url?: string;
  user_id?: string;
  last_seen: number;
  events: number;
}

/** socket opens the live tail and reconnects with backoff until the page is
 * left. onGone reports a server without the endpoint (it never opened). */
function socket(p: Page, sessionID: string | undefined, onMessage: (m: any) => void, onState: (s: "connecting" | "open" | "closed" | "unavailable") => void): void {
  let ws: WebSocket | null = null;
  let everOpened = false;
  let failures = 0;
  let timer = 0;
  const open = () => {
    if (p.signal.aborted) return;
    onState("connecting");
    ws = new WebSocket(liveURL(sessionID));
    ws.onopen = () => {
      everOpened = true;
      failures = 0;
      onState("open");
    };
    ws.onmessage = (ev) => {
      try {
        onMessage(JSON.parse(String(ev.data)));
      } catch {
        /* a malformed frame is skipped, the stream goes on */
      }
    };
    ws.onclose = () => {
      if (p.signal.aborted) return;
      failures++;
      if (!everOpened && failures >= 3) {
        onState("unavailable");
        return;
      }
      onState("closed");
      timer = window.setTimeout(open, Math.min(10000, 500 * 2 ** failures));
    };
  };
  p.cleanup(() => {
    clearTimeout(timer);
    ws?.close();
  });
  open();
}

function stateBadge(): { el: HTMLElement; set: (s: string) => void } {
  const el = h("span", { class: "live-state", "data-state": "connecting" }, "Connecting…");
  return {
    el,
    set: (s) => {
      el.dataset.state = s;
      el.textContent = s === "open" ? "● Live" : s === "closed" ? "Reconnecting…" : s === "unavailable" ? "Unavailable" : "Connecting…";
    },
  };
}

const unavailable = () => empty("Live tail isn't available on this server yet.", "The coordinator did not accept the WebSocket at /api/v1/live.");

export function liveListPage(p: Page): void {
  const st = stateBadge();
  const body = h("div", null, empty("Waiting for active sessions…", "Sessions appear here while users are on your site."));
  mount(p.root, header("Live", st.el), body);
  let tick = 0;
  let last: LiveSession[] = [];
  const render = () => {
    if (!last.length) {
      mount(body, empty("No active sessions right now.", "Sessions appear here while users are on your site."));
      return;
    }
    const rows = [...last].sort((a, b) => b.last_seen - a.last_seen);
    mount(
      body,
      h("p", { class: "muted small" }, `${rows.length} active session${rows.length > 1 ? "s" : ""}`),
      table<LiveSession>(
        [
          { title: "Session", cell: (s) => h("a", { href: `/player/live/${encodeURIComponent(s.id)}`, class: "mono" }, s.id) },
          { title: "User", cell: (s) => h("span", { class: "mono small" }, s.user_id || "anonymous") },
          { title: "Page", cell: (s) => h("span", { class: "mono small", title: s.url ?? "" }, pathOf(s.url ?? "")) },
          { title: "Where", cell: (s) => [s.country, s.region].filter(Boolean).join(" · ") },
          { title: "Events", cell: (s) => String(s.events ?? 0), class: "num" },
          { title: "Last seen", cell: (s) => ago(s.last_seen), class: "nowrap" },
        ],
        rows,
        (s) => `/player/live/${encodeURIComponent(s.id)}`,
        p.go,
      ),
    );
  };
  socket(
    p,
    undefined,
    (m) => {
      if (m.type === "sessions") {
        last = m.sessions ?? [];
        render();
      }
    },
    (s) => {
      st.set(s);
      if (s === "unavailable") mount(body, unavailable());
    },
  );
  // Keep "last seen" fresh between updates.
  tick = window.setInterval(() => last.length && render(), 5000);
  p.cleanup(() => clearInterval(tick));
}

export function liveSessionPage(p: Page): void {
  const id = p.params.id;
  const st = stateBadge();
  const stage = h("div", { class: "stage live" });
  const frame = h("div", { class: "stage-frame" });
  stage.appendChild(frame);
  const waiting = empty("Waiting for the first snapshot…");
  const noErrors = h("li", { class: "muted small" }, "No errors so far.");
  const errors = h("ol", { class: "event-list" }, noErrors);
  mount(
    p.root,
    h("nav", { class: "crumbs" }, h("a", { href: "/player/live" }, "Live"), " / ", h("span", { class: "mono" }, id)),
    header(h("span", { class: "mono" }, id), st.el, h("a", { class: "button ghost", href: `/player/replay/${encodeURIComponent(id)}` }, "Open recorded replay")),
    h("div", { class: "replay-layout" }, h("div", { class: "replay-main" }, waiting, stage), h("aside", { class: "replay-side" }, h("h2", null, "Errors"), errors)),
  );

  let replayer: Replayer | null = null;
  let vw = 1024,
    vh = 768;
  const fit = () => {
    if (!replayer) return;
    const scale = Math.min(1, (stage.clientWidth || 800) / vw, Math.max(240, window.innerHeight - 240) / vh);
    replayer.wrapper.style.transform = `scale(${scale})`;
    replayer.wrapper.style.transformOrigin = "top left";
    frame.style.width = `${vw * scale}px`;
    frame.style.height = `${vh * scale}px`;
  };
  const ro = new ResizeObserver(fit);
  ro.observe(stage);
  // Events seen before the first full snapshot: rrweb can apply nothing
  // until one arrives, so they wait here and start the replay with it.
  let pending: any[] = [];
  const reset = (received: any[]) => {
    replayer?.destroy();
    replayer = null;
    pending = received;
    const events: any[] | null = liveStart(received);
    if (!events) return;
    pending = [];
    const meta = events.find((e) => e.type === 4 && e.data?.width);
    if (meta) {
      vw = meta.data.width;
      vh = meta.data.height;
    }
    waiting.remove();
    // Live mode: the snapshot applies at once, later events play a few
    // seconds behind real time so batching at the SDK does not show.
    // No virtual DOM: rrweb flushes it only after a bulk seek, so events
    // applied one by one in live mode would never reach the page.
    replayer = new Replayer([], { root: frame, liveMode: true, useVirtualDom: false, showWarning: false, triggerFocus: false, mouseTail: false });
    replayer.on("resize", (d: any) => {
      vw = d.width;
      vh = d.height;
      fit();
    });
    replayer.startLive(liveBaseline(Math.max(...events.map((e) => e.timestamp)), Date.now()));
    for (const e of events) replayer.addEvent(e);
    stage.dataset.ready = "true";
    fit();
  };
  p.cleanup(() => {
    ro.disconnect();
    replayer?.destroy();
  });
  socket(
    p,
    id,
    (m) => {
      switch (m.type) {
        case "snapshot":
          reset(m.events ?? []);
          break;
        case "events":
          if (replayer) for (const e of m.events ?? []) replayer.addEvent(e);
          else reset(pending.concat(m.events ?? []));
          break;
        case "resync":
          st.set("connecting");
          break;
        case "error": {
          const err = m.event?.error ?? m.event?.event?.error ?? m.event?.payload?.error ?? {};
          noErrors.remove();
          errors.prepend(h("li", { class: "ev ev-error" }, h("span", { class: "icon marker-error" }, "✖"), h("span", { class: "what" }, [err.type, err.value].filter(Boolean).join(": ") || "Error")));
          break;
        }
      }
    },
    (s) => {
      st.set(s);
      if (s === "unavailable") mount(p.root, unavailable());
    },
  );
}
