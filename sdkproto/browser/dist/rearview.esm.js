var __defProp = Object.defineProperty;
var __defNormalProp = (obj, key, value) => key in obj ? __defProp(obj, key, { enumerable: true, configurable: true, writable: true, value }) : obj[key] = value;
var __publicField = (obj, key, value) => __defNormalProp(obj, typeof key !== "symbol" ? key + "" : key, value);

// src/protocol.ts
var SDK_NAME = "@rearview/browser";
var SDK_VERSION = "0.1.0";
var PROTOCOL_VERSION = 1;
var LIMITS = {
  id: 64,
  url: 4096,
  message: 8192,
  short: 256,
  frames: 128,
  tags: 64,
  tagValue: 256,
  breadcrumbs: 100,
  mapEntries: 64,
  body: 64 << 10,
  events: 500,
  // The wire cap is 1 MiB; a batch is cut well below it so that even an
  // uncompressed one (no CompressionStream) fits.
  batchBytes: 900 << 10
};
var enc = /* @__PURE__ */ new TextEncoder();
function clip(s2, max) {
  if (s2.length * 3 <= max) return s2;
  const b2 = enc.encode(s2);
  if (b2.length <= max) return s2;
  let end = max;
  while (end > 0 && (b2[end] & 192) === 128) end--;
  return new TextDecoder().decode(b2.subarray(0, end));
}
function byteLength(s2) {
  let n2 = 0;
  for (let i3 = 0; i3 < s2.length; i3++) {
    const c2 = s2.charCodeAt(i3);
    if (c2 < 128) n2++;
    else if (c2 < 2048) n2 += 2;
    else if (c2 >= 55296 && c2 < 56320) {
      n2 += 4;
      i3++;
    } else n2 += 3;
  }
  return n2;
}
function clipMap(m2, maxValue, maxEntries = LIMITS.mapEntries) {
  if (!m2) return void 0;
  const out = {};
  let n2 = 0;
  for (const k2 of Object.keys(m2)) {
    const v2 = m2[k2];
    if (v2 === void 0 || v2 === null || k2 === "" || byteLength(k2) > LIMITS.short) continue;
    if (n2++ >= maxEntries) break;
    out[k2] = clip(String(v2), maxValue);
  }
  return n2 ? out : void 0;
}

// src/config.ts
var MASK_SELECTORS = ["[data-rv-mask]", "[data-sentry-mask]", "[data-lr-hide]", ".rr-mask"];
var BLOCK_SELECTORS = ["[data-rv-block]", ".rr-block"];
function parseDSN(dsn) {
  const m2 = /^(https?):\/\/([^@/:]+)@([^/?#]+)((?:\/[^/?#]+)*)\/([^/?#]+)\/?$/.exec(dsn.trim());
  if (!m2) throw new Error("Rearview: DSN must look like https://KEY@host/PROJECT");
  return { endpoint: m2[1] + "://" + m2[3] + m2[4], key: decodeURIComponent(m2[2]), project: m2[5] };
}
function rate(v2, def) {
  return typeof v2 === "number" && v2 >= 0 && v2 <= 1 ? v2 : def;
}
function resolve(o2) {
  const opts = typeof o2 === "string" ? { dsn: o2 } : o2 || {};
  let endpoint = opts.endpoint;
  let key = opts.key;
  if (opts.dsn) {
    const d2 = parseDSN(opts.dsn);
    endpoint = endpoint || d2.endpoint;
    key = key || d2.key;
  }
  if (!endpoint || !key) throw new Error("Rearview: init needs endpoint and key, or a dsn");
  endpoint = endpoint.replace(/\/+$/, "");
  const ingestURL = (/\/v1\/ingest$/.test(endpoint) ? endpoint : endpoint + "/v1/ingest") + "?key=" + encodeURIComponent(key);
  const r2 = opts.replay;
  let replay = null;
  if (r2) {
    replay = {
      sessionSampleRate: rate(r2.sessionSampleRate, 0),
      onErrorSampleRate: rate(r2.onErrorSampleRate, 1),
      bufferMs: Math.max(1, r2.bufferSeconds ?? 60) * 1e3,
      maskAllInputs: r2.maskAllInputs !== false || !!r2.strict,
      maskAllText: !!r2.maskAllText || !!r2.strict,
      strict: !!r2.strict,
      mask: MASK_SELECTORS.concat(r2.mask || []),
      unmask: r2.strict ? [] : r2.unmask || [],
      block: BLOCK_SELECTORS.concat(r2.block || []),
      checkoutEveryMs: r2.checkoutEveryMs ?? 5 * 60 * 1e3,
      mutationLimit: r2.mutationLimit ?? 1e4,
      maxNodes: r2.maxNodes ?? 5e4
    };
    if (replay.sessionSampleRate === 0 && replay.onErrorSampleRate === 0) replay = null;
  }
  const b2 = opts.breadcrumbs || {};
  const n2 = opts.network || {};
  return {
    ingestURL,
    key,
    release: opts.release,
    dist: opts.dist,
    environment: opts.environment,
    sampleRate: rate(opts.sampleRate, 1),
    replay,
    tracePropagationTargets: opts.tracePropagationTargets || [],
    traceIdHeader: !!opts.traceIdHeader,
    captureBodies: !!n2.captureBodies,
    allowUrls: n2.allowUrls || [],
    breadcrumbs: {
      clicks: b2.clicks !== false,
      navigation: b2.navigation !== false,
      fetch: b2.fetch !== false,
      xhr: b2.xhr !== false,
      console: b2.console !== false
    },
    captureConsoleErrors: !!opts.captureConsoleErrors,
    vitals: opts.vitals !== false,
    maxBreadcrumbs: Math.min(100, Math.max(0, opts.maxBreadcrumbs ?? 50)),
    flushInterval: Math.max(0, opts.flushInterval ?? 2e3),
    debug: !!opts.debug,
    synthetic: opts.synthetic ?? (typeof window !== "undefined" && window.__REARVIEW_SYNTHETIC__ === true)
  };
}
function matches(url, list) {
  for (const m2 of list) {
    if (typeof m2 === "string" ? m2 !== "" && url.indexOf(m2) > -1 : m2.test(url)) return true;
  }
  return false;
}

// src/ids.ts
function randomBytes(n2) {
  const b2 = new Uint8Array(n2);
  try {
    crypto.getRandomValues(b2);
  } catch {
    for (let i3 = 0; i3 < n2; i3++) b2[i3] = Math.random() * 256 | 0;
  }
  return b2;
}
function hex(n2) {
  const b2 = randomBytes(n2);
  b2[n2 - 1] |= 1;
  let s2 = "";
  for (let i3 = 0; i3 < n2; i3++) s2 += (b2[i3] < 16 ? "0" : "") + b2[i3].toString(16);
  return s2;
}
var traceId = () => hex(16);
var spanId = () => hex(8);
var eventId = () => hex(10);
var sessionId = () => "s-" + hex(12);

// src/session.ts
var SESSION_IDLE_MS = 30 * 60 * 1e3;
var STORAGE_KEY = "rearview.session";
function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}
var Session = class {
  constructor(now) {
    /** isNew is true when the session was created by this page load. */
    this.isNew = false;
    this.store_ = storage();
    this.saved_ = 0;
    let s2 = null;
    try {
      const raw = this.store_?.getItem(STORAGE_KEY);
      if (raw) s2 = JSON.parse(raw);
    } catch {
      s2 = null;
    }
    if (!s2 || typeof s2.id !== "string" || !/^[\w-]{1,64}$/.test(s2.id) || now - s2.last > SESSION_IDLE_MS) {
      s2 = fresh(now);
      this.isNew = true;
    }
    this.state = s2;
    this.save(now, true);
  }
  /**
   * touch records activity at now. It returns true when the session had
   * expired and a new one started.
   */
  touch(now) {
    const expired = now - this.state.last > SESSION_IDLE_MS;
    if (expired) {
      this.state = fresh(now);
      this.isNew = true;
    }
    this.state.last = now;
    this.save(now, expired);
    return expired;
  }
  /** nextSeq returns the sequence number of the next batch. */
  nextSeq() {
    const n2 = this.state.seq++;
    this.save(Date.now(), true);
    return n2;
  }
  nextSegment() {
    const n2 = this.state.segment++;
    this.save(Date.now(), true);
    return n2;
  }
  flag(name) {
    if (this.state.flags[name]) return false;
    this.state.flags[name] = true;
    this.save(Date.now(), true);
    return true;
  }
  setReplay(mode) {
    this.state.replay = mode;
    this.save(Date.now(), true);
  }
  /** save writes the state, at most once a second unless forced. */
  save(now, force = false) {
    if (!force && now - this.saved_ < 1e3) return;
    this.saved_ = now;
    try {
      this.store_?.setItem(STORAGE_KEY, JSON.stringify(this.state));
    } catch {
    }
  }
};
function fresh(now) {
  return { id: sessionId(), started: now, last: now, seq: 0, segment: 0, flags: {} };
}

// src/transport.ts
var KEEPALIVE_MAX = 60 * 1024;
var MAX_ATTEMPTS = 5;
var MAX_BACKOFF_MS = 6e4;
async function gzip(s2) {
  if (typeof CompressionStream === "undefined") return null;
  try {
    const stream = new Blob([s2]).stream().pipeThrough(new CompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    return null;
  }
}
function retryAfterMs(h2, now) {
  if (!h2) return void 0;
  const secs = Number(h2);
  if (!isNaN(secs)) return Math.max(0, secs * 1e3);
  const t2 = Date.parse(h2);
  return isNaN(t2) ? void 0 : Math.max(0, t2 - now);
}
var Transport = class {
  constructor(deps_) {
    this.deps_ = deps_;
    this.blockedUntil_ = 0;
    /**
     * Bodies queued or compressing or waiting to retry: not yet in the
     * browser's hands. A page that goes away hands them over with rescue.
     */
    this.unsent_ = /* @__PURE__ */ new Set();
    /** Bodies rescue sent: a send still waiting for them has nothing to do. */
    this.rescued_ = /* @__PURE__ */ new Set();
    this.sleep_ = deps_.sleep || ((ms2) => new Promise((r2) => setTimeout(r2, ms2)));
    this.now_ = deps_.now || Date.now;
  }
  /**
   * send posts one batch body, retrying network failures, 429 and 5xx with
   * exponential backoff (or the server's Retry-After) and the same bytes, so
   * the edge's dedupe stores a retried batch once. A 4xx other than 429 is
   * final: retrying the same bytes cannot succeed.
   */
  async send(body) {
    if (this.rescued_.delete(body)) return "sent";
    this.unsent_.add(body);
    const gz = await gzip(body);
    const payload = gz ? new Blob([gz]) : body;
    const size = gz ? gz.byteLength : body.length;
    let backoff = 1e3;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const wait = this.blockedUntil_ - this.now_();
      if (attempt === 1 && wait > 0) await this.sleep_(wait);
      if (this.rescued_.delete(body)) return "sent";
      const keepalive = size <= KEEPALIVE_MAX;
      if (keepalive) this.unsent_.delete(body);
      let status = 0;
      let retryAfter;
      try {
        const res = await this.deps_.fetch.call(globalThis, this.deps_.url, {
          method: "POST",
          body: payload,
          headers: { "Content-Type": "text/plain" },
          credentials: "omit",
          keepalive
        });
        status = res.status;
        retryAfter = retryAfterMs(res.headers.get("Retry-After"), this.now_());
      } catch (err) {
        this.deps_.log("send failed", err);
      }
      if (status >= 200 && status < 300 || status >= 400 && status < 500 && status !== 429 && status !== 408) {
        this.unsent_.delete(body);
        if (status >= 400) this.deps_.log("batch rejected with " + status);
        return status < 300 ? "sent" : "dropped";
      }
      this.unsent_.add(body);
      const delay = retryAfter ?? backoff * (0.5 + Math.random() / 2);
      if (status === 429 || status === 503) this.blockedUntil_ = this.now_() + delay;
      if (attempt < MAX_ATTEMPTS) await this.sleep_(delay);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
    this.unsent_.delete(body);
    this.deps_.log("batch dropped after " + MAX_ATTEMPTS + " attempts");
    return "dropped";
  }
  /** track marks a body that a later send will post as not yet sent. */
  track(body) {
    this.unsent_.add(body);
  }
  /** forget undoes track for a body the client dropped before sending it. */
  forget(body) {
    this.unsent_.delete(body);
    this.rescued_.delete(body);
  }
  /** rescue hands every body not yet sent to sendNow (the page is going away). */
  rescue() {
    for (const b2 of Array.from(this.unsent_)) {
      if (this.sendNow(b2)) {
        this.unsent_.delete(b2);
        this.rescued_.add(b2);
      }
    }
  }
  /**
   * sendNow hands a small uncompressed body to the browser to deliver even
   * when the page is going away (compression is asynchronous and may not
   * finish). It returns false when the body is too large or the browser
   * refused it (the keepalive quota is 64 KiB for everything in flight).
   */
  sendNow(body) {
    if (body.length > KEEPALIVE_MAX) return false;
    try {
      return typeof navigator.sendBeacon === "function" && navigator.sendBeacon(this.deps_.url, body);
    } catch {
      return false;
    }
  }
};

// src/stack.ts
var V8_EVAL = /\((\S+?):(\d+):(\d+)\)/;
var GECKO_EVAL = /(\S+) line (\d+)(?: > eval line \d+)* > eval/i;
var LOCATION = /^(.*?)(?::(\d+))?(?::(\d+))?$/;
function num(s2) {
  if (!s2) return void 0;
  const n2 = parseInt(s2, 10);
  return n2 > 0 ? n2 : void 0;
}
function frame(loc, fn) {
  const m2 = LOCATION.exec(loc);
  let url = m2[1];
  if (url === "native" || url === "[native code]") url = "[native]";
  const f2 = { url: clip(url, LIMITS.url) };
  if (fn && fn !== "?" && fn !== "<anonymous>") f2.function = clip(fn, LIMITS.short * 4);
  const line = num(m2[2]);
  const column = num(m2[3]);
  if (line) f2.line = line;
  if (column) f2.column = column;
  return f2;
}
function parseV8(line) {
  const t2 = line.trim();
  if (t2.slice(0, 3) !== "at ") return null;
  const body = t2.slice(3);
  let fn;
  let loc = body;
  const m2 = /^(.*?) \((.*)\)$/.exec(body);
  if (m2) {
    fn = m2[1];
    loc = m2[2];
  }
  if (loc.indexOf("eval at ") === 0) {
    const e2 = V8_EVAL.exec(loc);
    if (e2) loc = e2[1] + ":" + e2[2] + ":" + e2[3];
  }
  if (!/:\d+$/.test(loc) && !/^(native|<anonymous>|\[native code\])$/.test(loc)) return null;
  if (fn) fn = fn.replace(/^async /, "").replace(/ \[as [^\]]+\]$/, "");
  return frame(loc, fn);
}
function parseGecko(line) {
  const t2 = line.trim();
  const at = t2.lastIndexOf("@");
  if (at < 0 && !/:\d+$/.test(t2) && t2 !== "[native code]") return null;
  let fn = at >= 0 ? t2.slice(0, at) : "";
  let loc = at >= 0 ? t2.slice(at + 1) : t2;
  const ev = GECKO_EVAL.exec(loc);
  if (ev) loc = ev[1] + ":" + ev[2];
  fn = fn.replace(/^.*\*/, "").replace(/(\/<)+$/, "").replace(/\/<\//g, "/");
  if (fn === "global code" || fn === "module code" || fn === "eval code") fn = "";
  if (!loc) return null;
  return frame(loc, fn || void 0);
}
function parseStack(stack) {
  if (!stack || typeof stack !== "string") return [];
  const out = [];
  const lines = stack.split("\n");
  const v8 = lines.some((l2) => /^\s+at /.test(l2));
  for (const line of lines) {
    if (out.length >= LIMITS.frames) break;
    if (!line.trim() || line.length > 4096) continue;
    const f2 = v8 ? parseV8(line) : parseGecko(line);
    if (f2 && f2.url) out.push(f2);
  }
  return out;
}

// src/debugids.ts
var cache = null;
function registry() {
  const g2 = globalThis;
  if (g2._rvDebugIds || g2._sentryDebugIds) return { ...g2._sentryDebugIds || {}, ...g2._rvDebugIds || {} };
  return void 0;
}
function debugIdsFor(frames) {
  const reg = registry();
  if (!reg) return void 0;
  const keys = Object.keys(reg);
  if (!cache || cache.size !== keys.length) {
    const byURL = {};
    for (const stack of keys) {
      const f2 = parseStack(stack)[0];
      if (f2 && f2.url) byURL[f2.url] = reg[stack];
    }
    cache = { size: keys.length, byURL };
  }
  let out;
  let n2 = 0;
  for (const f2 of frames) {
    const id = cache.byURL[f2.url];
    if (id && !(out && f2.url in out) && n2 < LIMITS.frames) {
      (out || (out = {}))[f2.url] = clip(id, LIMITS.short);
      n2++;
    }
  }
  return out;
}

// src/client.ts
var MAX_QUEUE = 1e3;
var MAX_QUEUE_BYTES = 8 << 20;
var MAX_PENDING = 20;
var MAX_PENDING_CHARS = 8 << 20;
var ERROR_DELAY_MS = 250;
var TRACE_LINK_MS = 1e4;
var MAX_ERRORS = 100;
var Client = class {
  constructor(options, fetchImpl) {
    this.replay = null;
    this.lastFailure = null;
    this.queue_ = [];
    this.queueBytes_ = 0;
    this.crumbs_ = [];
    this.tags_ = {};
    this.userId_ = "";
    this.timerAt_ = 0;
    /** Batches waiting for the send loop; error_ says the batch holds an error event. */
    this.pending_ = [];
    this.pendingChars_ = 0;
    /** The send loop while it runs; one at a time, so that seq order is send order. */
    this.sending_ = null;
    this.errors_ = 0;
    this.teardown_ = [];
    /** The page's user agent, read once: it cannot change while the page lives, and a beacon sent while the page unloads must say the same. */
    this.ua_ = clip(navigator.userAgent || "", 1024);
    this.closed_ = false;
    this.cfg = resolve(options);
    this.fetch = fetchImpl || window.fetch;
    this.session = new Session(Date.now());
    this.transport = new Transport({ url: this.cfg.ingestURL, fetch: this.fetch, log: (m2, e2) => this.log(m2, e2) });
  }
  /** log reports the SDK's own trouble when debug is on. */
  log(msg, err) {
    if (this.cfg.debug && typeof console !== "undefined") {
      console.warn("[rearview] " + msg, err ?? "");
    }
  }
  /** guard runs fn and swallows what it throws. */
  guard(fn) {
    try {
      return fn();
    } catch (err) {
      this.log("internal error", err);
      return void 0;
    }
  }
  /** onClose registers a function that undoes an instrumentation. */
  onClose(fn) {
    this.teardown_.push(fn);
  }
  /** touch records user activity; it rotates an expired session. */
  touch() {
    if (this.session.touch(Date.now())) {
      this.enqueue("session", { state: "start", url: clip(location.href, LIMITS.url) }, this.cfg.flushInterval);
      this.replay?.onSessionRotate();
    }
  }
  setUser(user) {
    this.userId_ = user && user.id !== void 0 && user.id !== null ? clip(String(user.id), LIMITS.short) : "";
  }
  setTag(key, value) {
    if (!key || byteLength(key) > LIMITS.short) return;
    if (!(key in this.tags_) && Object.keys(this.tags_).length >= LIMITS.tags) return;
    this.tags_[key] = clip(String(value), LIMITS.tagValue);
  }
  /** addBreadcrumb remembers a step for the next error and, while replay is live, sends it. */
  addBreadcrumb(b2) {
    if (this.closed_) return;
    b2.ts = b2.ts || Date.now();
    if (b2.message) b2.message = clip(b2.message, LIMITS.message);
    if (b2.url) b2.url = clip(b2.url, LIMITS.url);
    this.crumbs_.push(b2);
    if (this.crumbs_.length > LIMITS.breadcrumbs) this.crumbs_.shift();
    if (this.replay && this.replay.live()) this.enqueue("breadcrumb", b2, this.cfg.flushInterval);
  }
  /** breadcrumbsSince returns remembered breadcrumbs at or after ts. */
  breadcrumbsSince(ts) {
    return this.crumbs_.filter((b2) => (b2.ts || 0) >= ts);
  }
  /** flag marks the session; flags go with every batch so the edge keeps the session. */
  flag(name) {
    this.session.flag(name);
    if (this.replay) this.replay.onTrigger(name);
  }
  captureException(err, mechanism = "manual", handled = true, ctx = {}, fallback) {
    let type = "Error";
    let value = "";
    let stack = void 0;
    if (err instanceof Error || err && typeof err === "object" && "message" in err && "stack" in err) {
      const e2 = err;
      type = e2.name || e2.constructor && e2.constructor.name || "Error";
      value = String(e2.message ?? "");
      stack = parseStack(e2.stack);
    } else if (mechanism === "unhandledrejection") {
      type = "UnhandledRejection";
      value = "Non-Error promise rejection: " + describe(err);
    } else {
      value = typeof err === "string" ? err : describe(err);
    }
    if ((!stack || !stack.length) && fallback && fallback.url) {
      stack = [{ url: fallback.url, line: fallback.line || void 0, column: fallback.column || void 0 }];
    }
    return this.captureError({ type, value, mechanism, handled, stack, level: ctx.level }, ctx);
  }
  captureMessage(message, level = "info", ctx = {}) {
    return this.captureError({ type: "Message", value: String(message), mechanism: "manual", handled: true, level }, ctx);
  }
  /** captureError completes an error payload and queues it. */
  captureError(p2, ctx = {}) {
    const id = eventId();
    if (this.closed_ || this.errors_ >= MAX_ERRORS) return id;
    this.errors_++;
    this.touch();
    const level = p2.level || ctx.level;
    if (!level || level === "error" || level === "fatal") this.flag("error");
    if (Math.random() >= this.cfg.sampleRate) return id;
    const now = Date.now();
    const payload = {
      type: clip(p2.type || "Error", LIMITS.short),
      value: clip(p2.value, LIMITS.message),
      mechanism: p2.mechanism,
      handled: p2.handled
    };
    if (level) payload.level = level;
    if (p2.stack && p2.stack.length) {
      payload.stack = p2.stack.slice(0, LIMITS.frames);
      const ids = debugIdsFor(payload.stack);
      if (ids) payload.debug_ids = ids;
    }
    if (this.cfg.release) payload.release = clip(this.cfg.release, LIMITS.short);
    if (this.cfg.dist) payload.dist = clip(this.cfg.dist, LIMITS.short);
    if (this.cfg.environment) payload.environment = clip(this.cfg.environment, LIMITS.short);
    payload.url = clip(location.href, LIMITS.url);
    const tags = clipMap({ ...this.tags_, ...ctx.tags || {} }, LIMITS.tagValue, LIMITS.tags);
    if (tags) payload.tags = tags;
    const f2 = this.lastFailure;
    if (f2 && now - f2.at <= TRACE_LINK_MS) {
      payload.trace_id = f2.traceId;
      payload.span_id = f2.spanId;
    }
    if (this.crumbs_.length && this.cfg.maxBreadcrumbs) payload.breadcrumbs = this.crumbs_.slice(-this.cfg.maxBreadcrumbs);
    if (ctx.fingerprint && ctx.fingerprint.length) payload.fingerprint = ctx.fingerprint.slice(0, 16).map((s2) => clip(String(s2), LIMITS.short));
    this.enqueueWithId_(id, now, "error", payload, ERROR_DELAY_MS);
    return id;
  }
  captureVital(v2) {
    this.enqueue("vital", v2, this.cfg.flushInterval);
  }
  /** enqueue serialises an event and schedules a flush within delay ms. */
  enqueue(kind, payload, delay) {
    this.enqueueWithId_(eventId(), Date.now(), kind, payload, delay);
  }
  enqueueWithId_(id, ts, kind, payload, delay) {
    this.push(kind, '{"id":"' + id + '","ts":' + ts + ',"kind":"' + kind + '","' + kind + '":' + JSON.stringify(payload) + "}", delay);
  }
  /**
   * push queues an event whose JSON the caller built (replay segments
   * splice pre-serialised rrweb events into it).
   */
  push(kind, json, delay) {
    if (this.closed_) return;
    const bytes = byteLength(json);
    if (this.queue_.length >= MAX_QUEUE || this.queueBytes_ + bytes > MAX_QUEUE_BYTES) {
      const i3 = kind === "error" ? this.queue_.findIndex((q2) => q2.kind !== "error") : -1;
      if (i3 < 0) {
        this.log("queue full, dropping " + kind);
        return;
      }
      this.queueBytes_ -= this.queue_[i3].bytes;
      this.queue_.splice(i3, 1);
    }
    this.queue_.push({ kind, json, bytes });
    this.queueBytes_ += bytes;
    this.schedule_(delay);
  }
  schedule_(delay) {
    const at = Date.now() + delay;
    if (this.timer_ !== void 0 && this.timerAt_ <= at) return;
    if (this.timer_ !== void 0) clearTimeout(this.timer_);
    this.timerAt_ = at;
    this.timer_ = setTimeout(() => {
      this.timer_ = void 0;
      this.sendQueued();
    }, delay);
  }
  device() {
    const d2 = { ua: this.ua_, viewport: { w: window.innerWidth | 0, h: window.innerHeight | 0 } };
    if (window.screen) d2.screen = { w: screen.width | 0, h: screen.height | 0 };
    if (window.devicePixelRatio) d2.dpr = window.devicePixelRatio;
    if (navigator.language) d2.language = clip(navigator.language, LIMITS.short);
    try {
      const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (tz) d2.timezone = clip(tz, LIMITS.short);
    } catch {
    }
    const c2 = navigator.connection;
    if (c2 && c2.effectiveType) d2.connection = clip(c2.effectiveType, LIMITS.short);
    if (navigator.webdriver === true) d2.webdriver = true;
    if (headless()) d2.headless = true;
    return d2;
  }
  /** envelope builds a batch's head; the session's seq advances by one per batch. */
  envelope() {
    const s2 = this.session.state;
    const session = { id: s2.id, seq: this.session.nextSeq(), started_at: s2.started, flags: this.cfg.synthetic ? { ...s2.flags, synthetic: true } : { ...s2.flags } };
    if (this.userId_) session.user_id = this.userId_;
    const page = { url: clip(location.href, LIMITS.url) };
    if (document.referrer) page.referrer = clip(document.referrer, LIMITS.url);
    return { v: PROTOCOL_VERSION, sdk: { name: SDK_NAME, version: SDK_VERSION }, session, page, device: this.device(), sent_at: Date.now() };
  }
  /**
   * takeBatches empties the queue into batch bodies within the edge's limits
   * (or maxBytes, for beacons; one event larger than that goes alone).
   */
  takeBatches(maxBytes = LIMITS.batchBytes) {
    const out = [];
    while (this.queue_.length) {
      const events = [];
      let bytes = 0;
      while (this.queue_.length && events.length < LIMITS.events) {
        const q2 = this.queue_[0];
        if (events.length && bytes + q2.bytes > maxBytes) break;
        events.push(q2.json);
        bytes += q2.bytes;
        this.queue_.shift();
        this.queueBytes_ -= q2.bytes;
      }
      const env = JSON.stringify(this.envelope());
      out.push(env.slice(0, -1) + ',"events":[' + events.join(",") + "]}");
    }
    return out;
  }
  /**
   * flush sends everything queued, the replay recorded so far included, and
   * resolves when the edge answered (or gave up).
   */
  flush() {
    this.guard(() => this.replay?.cut());
    return this.sendQueued();
  }
  /**
   * sendQueued is the scheduled flush: it sends what is queued but leaves the
   * recorder's open segment alone. Cutting one on every flush made a
   * segment per breadcrumb or vital, each compressed on its own.
   */
  sendQueued() {
    if (this.timer_ !== void 0) {
      clearTimeout(this.timer_);
      this.timer_ = void 0;
    }
    for (const b2 of this.takeBatches()) this.hold_(b2);
    return this.sending_ || Promise.resolve();
  }
  /**
   * hold_ puts a batch in line for the send loop (starting it), dropping the
   * oldest batch without an error while the line is over its cap.
   */
  hold_(body) {
    const p2 = this.pending_;
    p2.push({ body_: body, error_: body.includes('"kind":"error"') });
    this.pendingChars_ += body.length;
    this.transport.track(body);
    while (p2.length > MAX_PENDING || this.pendingChars_ > MAX_PENDING_CHARS && p2.length > 1) {
      const i3 = Math.max(0, p2.findIndex((q2) => !q2.error_));
      const d2 = p2.splice(i3, 1)[0].body_;
      this.pendingChars_ -= d2.length;
      this.transport.forget(d2);
      this.log("queue full, dropping batch");
    }
    if (!this.sending_) this.sending_ = (async () => {
      for (let q2; q2 = p2.shift(); ) {
        this.pendingChars_ -= q2.body_.length;
        await this.transport.send(q2.body_).catch((err) => this.log("flush", err));
      }
      this.sending_ = null;
    })();
  }
  /**
   * flushNow is for a page going away: small batches are handed to the
   * browser to deliver after unload; larger ones take the normal path.
   */
  flushNow() {
    this.guard(() => this.replay?.cut());
    if (this.timer_ !== void 0) {
      clearTimeout(this.timer_);
      this.timer_ = void 0;
    }
    this.transport.rescue();
    for (const b2 of this.takeBatches(KEEPALIVE_MAX - 2048)) {
      if (!this.transport.sendNow(b2)) this.hold_(b2);
    }
  }
  close() {
    this.guard(() => this.flushNow());
    this.closed_ = true;
    this.guard(() => this.replay?.stop());
    for (const fn of this.teardown_.splice(0).reverse()) this.guard(fn);
  }
};
function describe(v2) {
  if (typeof v2 === "string") return v2;
  if (v2 === void 0 || v2 === null || typeof v2 !== "object") return String(v2);
  try {
    return clip(JSON.stringify(v2), 1024);
  } catch {
    return Object.prototype.toString.call(v2);
  }
}
var HEADLESS = /HeadlessChrome|PhantomJS/;
function headless() {
  if (HEADLESS.test(navigator.userAgent)) return true;
  const data = navigator.userAgentData;
  const brands = data && data.brands;
  return !!brands && brands.some((b2) => HEADLESS.test(b2.brand));
}

// src/dom.ts
function selectorOf(el2, depth = 3) {
  const parts = [];
  for (let e2 = el2; e2 && e2.nodeType === 1 && parts.length < depth; e2 = e2.parentElement) {
    let s2 = e2.tagName.toLowerCase();
    if (s2 === "html" || s2 === "body") break;
    if (e2.id && /^[\w-]+$/.test(e2.id)) {
      parts.unshift(s2 + "#" + e2.id);
      break;
    }
    const cls = typeof e2.className === "string" ? e2.className.trim().split(/\s+/).filter((c2) => /^[\w-]+$/.test(c2)).slice(0, 2) : [];
    if (cls.length) s2 += "." + cls.join(".");
    for (const a2 of ["data-testid", "name", "role", "type"]) {
      const v2 = e2.getAttribute(a2);
      if (v2 && /^[\w-]{1,40}$/.test(v2)) {
        s2 += "[" + a2 + '="' + v2 + '"]';
        break;
      }
    }
    parts.unshift(s2);
  }
  return parts.join(" > ");
}
function absoluteURL(u2) {
  try {
    return new URL(u2, location.href).href;
  } catch {
    return u2;
  }
}
function sameOrigin(u2) {
  try {
    return new URL(u2, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

// src/instrument.ts
var SENSITIVE_HEADER = /auth|cookie|token|secret|session|csrf|xsrf|password|passwd|api[-_]?key|signature|credential/i;
function instrumentErrors(c2) {
  const onError = (ev) => c2.guard(() => {
    if (!(ev instanceof ErrorEvent)) return;
    const e2 = ev;
    c2.captureException(e2.error !== void 0 && e2.error !== null ? e2.error : e2.message || "Unknown error", "onerror", false, {}, { url: e2.filename, line: e2.lineno, column: e2.colno });
  });
  const onRejection = (ev) => c2.guard(() => c2.captureException(ev.reason, "unhandledrejection", false));
  window.addEventListener("error", onError);
  window.addEventListener("unhandledrejection", onRejection);
  c2.onClose(() => {
    window.removeEventListener("error", onError);
    window.removeEventListener("unhandledrejection", onRejection);
  });
}
function instrumentClicks(c2) {
  const onClick = (ev) => c2.guard(() => {
    c2.touch();
    if (!c2.cfg.breadcrumbs.clicks) return;
    const t2 = ev.target;
    if (!t2 || t2.nodeType !== 1) return;
    c2.addBreadcrumb({ category: "ui.click", selector: clip(selectorOf(t2), LIMITS.url) });
  });
  const onKey = () => c2.guard(() => c2.touch());
  document.addEventListener("click", onClick, true);
  document.addEventListener("keydown", onKey, { capture: true, passive: true });
  c2.onClose(() => {
    document.removeEventListener("click", onClick, true);
    document.removeEventListener("keydown", onKey, true);
  });
}
function instrumentNavigation(c2) {
  let last = location.href;
  const changed = () => c2.guard(() => {
    const to = location.href;
    if (to === last) return;
    const from = last;
    last = to;
    if (c2.cfg.breadcrumbs.navigation) c2.addBreadcrumb({ category: "navigation", url: to, data: { from: clip(from, LIMITS.url) } });
    c2.enqueue("session", { state: "page_view", url: clip(to, LIMITS.url) }, c2.cfg.flushInterval);
  });
  const h2 = history;
  const push = h2.pushState;
  const replace = h2.replaceState;
  h2.pushState = function(...args) {
    const r2 = push.apply(this, args);
    changed();
    return r2;
  };
  h2.replaceState = function(...args) {
    const r2 = replace.apply(this, args);
    changed();
    return r2;
  };
  window.addEventListener("popstate", changed);
  window.addEventListener("hashchange", changed);
  c2.onClose(() => {
    h2.pushState = push;
    h2.replaceState = replace;
    window.removeEventListener("popstate", changed);
    window.removeEventListener("hashchange", changed);
  });
}
var CONSOLE_LEVELS = { debug: "debug", info: "info", log: "info", warn: "warning", error: "error" };
function instrumentConsole(c2) {
  if (typeof console === "undefined") return;
  const con = console;
  for (const method of Object.keys(CONSOLE_LEVELS)) {
    const orig = con[method];
    if (typeof orig !== "function") continue;
    let inside = false;
    con[method] = function(...args) {
      if (!inside) {
        inside = true;
        c2.guard(() => {
          if (typeof args[0] === "string" && args[0].indexOf("[rearview]") === 0) return;
          const message = clip(args.map((a2) => a2 instanceof Error ? a2.name + ": " + a2.message : describe(a2)).join(" "), LIMITS.message);
          if (c2.cfg.breadcrumbs.console) c2.addBreadcrumb({ category: "console", level: CONSOLE_LEVELS[method], message });
          if (method === "error" && c2.cfg.captureConsoleErrors) {
            const err = args.find((a2) => a2 instanceof Error);
            if (err) c2.captureException(err, "console", true, { level: "error" });
            else c2.captureError({ type: "ConsoleError", value: message, mechanism: "console", handled: true, level: "error" });
          }
        });
        inside = false;
      }
      return orig.apply(this, args);
    };
    c2.onClose(() => {
      con[method] = orig;
    });
  }
}
function shouldPropagate(c2, url) {
  return sameOrigin(url) || matches(url, c2.cfg.tracePropagationTargets);
}
function traceparent(t2, s2) {
  return "00-" + t2 + "-" + s2 + "-01";
}
function headerMap(h2) {
  if (!h2) return void 0;
  const out = {};
  const add = (k2, v2) => {
    if (!SENSITIVE_HEADER.test(k2)) out[k2.toLowerCase()] = v2;
  };
  if (typeof h2.forEach === "function" && !Array.isArray(h2)) h2.forEach((v2, k2) => add(k2, v2));
  else if (Array.isArray(h2)) for (const [k2, v2] of h2) add(k2, v2);
  else for (const k2 of Object.keys(h2)) add(k2, h2[k2]);
  return clipMap(out, LIMITS.url);
}
function bodyText(b2) {
  if (typeof b2 === "string") return clip(b2, LIMITS.body);
  if (b2 instanceof URLSearchParams) return clip(b2.toString(), LIMITS.body);
  return void 0;
}
function textual(ct) {
  return !!ct && /json|text|xml|x-www-form-urlencoded|graphql/i.test(ct);
}
function record(c2, category, http, trace, failed) {
  if (trace) {
    http.trace_id = trace.traceId;
    if (failed) c2.lastFailure = { traceId: trace.traceId, spanId: trace.spanId, at: Date.now() };
  }
  const b2 = { category, http };
  if (failed) b2.level = "error";
  c2.addBreadcrumb(b2);
}
function instrumentFetch(c2) {
  const orig = window.fetch;
  if (typeof orig !== "function") return;
  const wrapped = function(input, init2) {
    let trace = null;
    let http = null;
    let capture = false;
    c2.guard(() => {
      const req = typeof Request !== "undefined" && input instanceof Request ? input : null;
      const url = absoluteURL(req ? req.url : String(input));
      const method = String(init2 && init2.method || req && req.method || "GET").toUpperCase();
      http = { method: clip(method, 16), url: clip(url, LIMITS.url) };
      capture = matches(url, c2.cfg.allowUrls);
      if (shouldPropagate(c2, url)) {
        const headers = new Headers(init2 && init2.headers || (req ? req.headers : void 0));
        if (!headers.has("traceparent")) {
          trace = { traceId: traceId(), spanId: spanId() };
          headers.set("traceparent", traceparent(trace.traceId, trace.spanId));
          if (c2.cfg.traceIdHeader) headers.set("X-Trace-ID", trace.traceId);
          init2 = { ...init2 || {}, headers };
        }
      }
      if (capture) {
        const rh = headerMap(init2 && init2.headers || (req ? req.headers : void 0));
        if (rh) http.request_headers = rh;
        if (c2.cfg.captureBodies && init2 && init2.body !== void 0) {
          const body = bodyText(init2.body);
          if (body) http.request_body = body;
        }
      }
    });
    const start = performance.now();
    const p2 = orig.call(this === void 0 ? window : this, input, init2);
    if (!http || !c2.cfg.breadcrumbs.fetch) return p2;
    const h2 = http;
    p2.then(
      (res) => c2.guard(() => {
        h2.duration_ms = Math.round((performance.now() - start) * 10) / 10;
        if (res.status) h2.status = res.status;
        const failed = !res.ok && res.type !== "opaque";
        if (!capture) return record(c2, "fetch", h2, trace, failed);
        const rh = headerMap(res.headers);
        if (rh) h2.response_headers = rh;
        if (!c2.cfg.captureBodies || !textual(res.headers.get("content-type"))) return record(c2, "fetch", h2, trace, failed);
        res.clone().text().then(
          (t2) => {
            h2.response_body = clip(t2, LIMITS.body);
          },
          () => {
          }
        ).then(() => c2.guard(() => record(c2, "fetch", h2, trace, failed)));
      }),
      () => c2.guard(() => {
        h2.duration_ms = Math.round((performance.now() - start) * 10) / 10;
        record(c2, "fetch", h2, trace, true);
      })
    );
    return p2;
  };
  window.fetch = wrapped;
  c2.onClose(() => {
    if (window.fetch === wrapped) window.fetch = orig;
  });
}
function instrumentXHR(c2) {
  if (typeof XMLHttpRequest === "undefined") return;
  const proto = XMLHttpRequest.prototype;
  const open = proto.open;
  const send = proto.send;
  const setHeader = proto.setRequestHeader;
  const state = /* @__PURE__ */ new WeakMap();
  proto.open = function(...args) {
    c2.guard(() => {
      const url = absoluteURL(String(args[1]));
      state.set(this, { http: { method: clip(String(args[0]).toUpperCase(), 16), url: clip(url, LIMITS.url) }, trace: null, capture: matches(url, c2.cfg.allowUrls), start: 0, headers: {} });
    });
    return open.apply(this, args);
  };
  proto.setRequestHeader = function(name, value) {
    c2.guard(() => {
      const s2 = state.get(this);
      if (s2) s2.headers[name] = value;
    });
    return setHeader.call(this, name, value);
  };
  proto.send = function(body) {
    c2.guard(() => {
      const s2 = state.get(this);
      if (!s2) return;
      if (shouldPropagate(c2, s2.http.url) && !Object.keys(s2.headers).some((k2) => k2.toLowerCase() === "traceparent")) {
        s2.trace = { traceId: traceId(), spanId: spanId() };
        setHeader.call(this, "traceparent", traceparent(s2.trace.traceId, s2.trace.spanId));
        if (c2.cfg.traceIdHeader) setHeader.call(this, "X-Trace-ID", s2.trace.traceId);
      }
      if (s2.capture) {
        const rh = headerMap(s2.headers);
        if (rh) s2.http.request_headers = rh;
        if (c2.cfg.captureBodies) {
          const b2 = bodyText(body);
          if (b2) s2.http.request_body = b2;
        }
      }
      s2.start = performance.now();
      if (!c2.cfg.breadcrumbs.xhr) return;
      const xhr = this;
      xhr.addEventListener(
        "loadend",
        () => c2.guard(() => {
          const h2 = s2.http;
          h2.duration_ms = Math.round((performance.now() - s2.start) * 10) / 10;
          if (xhr.status) h2.status = xhr.status;
          const failed = xhr.status === 0 || xhr.status >= 400;
          if (s2.capture) {
            const rh = {};
            for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
              const i3 = line.indexOf(":");
              if (i3 > 0) rh[line.slice(0, i3).trim()] = line.slice(i3 + 1).trim();
            }
            const m2 = headerMap(rh);
            if (m2) h2.response_headers = m2;
            if (c2.cfg.captureBodies && (xhr.responseType === "" || xhr.responseType === "text") && textual(xhr.getResponseHeader("content-type"))) {
              h2.response_body = clip(xhr.responseText, LIMITS.body);
            }
          }
          record(c2, "xhr", h2, s2.trace, failed);
        })
      );
    });
    return send.call(this, body);
  };
  c2.onClose(() => {
    proto.open = open;
    proto.send = send;
    proto.setRequestHeader = setHeader;
  });
}

// node_modules/web-vitals/dist/web-vitals.js
var t = -1;
var n = () => t;
var e = (n2) => {
  addEventListener("pageshow", (e2) => {
    e2.persisted && (t = e2.timeStamp, n2(e2));
  }, true);
};
var i = (t2, n2, e2, i3) => {
  let o2, s2;
  return (a2) => {
    n2.value >= 0 && (a2 || i3) && (s2 = n2.value - (o2 ?? 0), (s2 || void 0 === o2) && (o2 = n2.value, n2.delta = s2, n2.rating = ((t3, n3) => t3 > n3[1] ? "poor" : t3 > n3[0] ? "needs-improvement" : "good")(n2.value, e2), t2(n2)));
  };
};
var o = (t2) => {
  requestAnimationFrame(() => requestAnimationFrame(() => t2()));
};
var s = () => {
  const t2 = performance.getEntriesByType("navigation")[0];
  if (t2 && t2.responseStart > 0 && t2.responseStart < performance.now()) return t2;
};
var a = () => s()?.activationStart ?? 0;
var r = -1;
var c = /* @__PURE__ */ new Set();
var f = () => "hidden" !== document.visibilityState || document.prerendering ? 1 / 0 : 0;
var h = (t2) => {
  if ("hidden" === document.visibilityState) {
    if ("visibilitychange" === t2.type) for (const t3 of c) t3();
    isFinite(r) || (r = "visibilitychange" === t2.type ? t2.timeStamp : 0, removeEventListener("prerenderingchange", h, true));
  }
};
var d = (t2 = false) => {
  if (t2 && (r = 1 / 0), r < 0) {
    const t3 = a(), n2 = document.prerendering ? void 0 : globalThis.performance.getEntriesByType("visibility-state").find((n3) => "hidden" === n3.name && n3.startTime >= t3)?.startTime;
    r = n2 ?? f(), addEventListener("visibilitychange", h, true), addEventListener("prerenderingchange", h, true), e(() => {
      setTimeout(() => {
        r = f();
      });
    });
  }
  return { get firstHiddenTime() {
    return r;
  }, onHidden(t3) {
    c.add(t3);
  } };
};
var l = (t2, e2 = -1, i3, o2 = 0, r2, c2, f2) => {
  const h2 = s(), d2 = h2?.navigationId || 0;
  let l2 = "navigate";
  i3 ? l2 = i3 : n() >= 0 ? l2 = "back-forward-cache" : h2 && (document.prerendering || a() > 0 ? l2 = "prerender" : document.wasDiscarded ? l2 = "restore" : h2.type && (l2 = h2.type.replace(/_/g, "-")));
  return { name: t2, value: e2, rating: "good", delta: 0, entries: [], id: `v6-${Date.now()}-${Math.floor(8999999999999 * Math.random()) + 1e12}`, navigationType: l2, navigationId: o2 || d2, navigationInteractionId: r2, navigationURL: c2 || h2?.name, navigationStartTime: f2 || 0 };
};
var g = /* @__PURE__ */ new WeakMap();
function u(t2, n2) {
  let e2 = g.get(n2);
  return e2 || (e2 = /* @__PURE__ */ new WeakMap(), g.set(n2, e2)), e2.get(t2) || e2.set(t2, new n2()), e2.get(t2);
}
var v = class {
  constructor() {
    __publicField(this, "t");
    __publicField(this, "i", 0);
    __publicField(this, "o", []);
  }
  h(t2) {
    if (t2.hadRecentInput) return;
    const n2 = this.o[0], e2 = this.o.at(-1);
    this.i && n2 && e2 && t2.startTime - e2.startTime < 1e3 && t2.startTime - n2.startTime < 5e3 ? (this.i += t2.value, this.o.push(t2)) : (this.i = t2.value, this.o = [t2]), this.t?.(t2);
  }
};
var m = (t2, n2, e2 = {}) => {
  try {
    const i3 = t2.filter((t3) => PerformanceObserver.supportedEntryTypes.includes(t3));
    if (i3.length > 0) {
      const t3 = new PerformanceObserver((t4) => {
        queueMicrotask(() => {
          const e3 = t4.getEntries();
          i3.length > 1 && e3.sort((t5, n3) => t5.startTime + t5.duration - (n3.startTime + n3.duration)), n2(e3);
        });
      });
      for (const n3 of i3) t3.observe({ type: n3, buffered: true, ...e2 });
      return t3;
    }
  } catch {
  }
};
var p = (t2) => globalThis.PerformanceObserver?.supportedEntryTypes?.includes("soft-navigation") && "function" == typeof globalThis.PerformanceSoftNavigation?.prototype?.getLargestInteractionContentfulPaint && t2 && t2.reportSoftNavs;
var b = (t2, n2) => {
  if (t2.set(n2.navigationId, n2), t2.size > 2) {
    const n3 = t2.keys().next().value;
    void 0 !== n3 && t2.delete(n3);
  }
};
var T = (t2) => {
  let n2 = false;
  return () => {
    n2 || (t2(), n2 = true);
  };
};
var y = class {
  constructor() {
    __publicField(this, "l");
  }
};
var _ = (t2) => {
  document.prerendering ? addEventListener("prerenderingchange", t2, true) : t2();
};
var E = [1800, 3e3];
var M = (t2, s2 = {}) => {
  const r2 = p(s2);
  _(() => {
    const c2 = u(s2, y), f2 = d();
    let h2, g2 = l("FCP");
    const v2 = m(["paint"], (t3) => {
      for (const n2 of t3) "first-contentful-paint" === n2.name && (v2.disconnect(), n2.startTime < f2.firstHiddenTime && (g2.value = Math.max(n2.startTime - a(), 0), g2.entries.push(n2), g2.navigationId = n2.navigationId || g2.navigationId, h2(true)));
    });
    if (v2 && (h2 = i(t2, g2, E, s2.reportAllChanges), e((e2) => {
      g2 = l("FCP", -1, "back-forward-cache", g2.navigationId, g2.navigationInteractionId, g2.navigationURL, n()), h2 = i(t2, g2, E, s2.reportAllChanges), o(() => {
        g2.value = performance.now() - e2.timeStamp, h2(true);
      });
    })), r2) {
      m(["soft-navigation"], (n2) => {
        n2.forEach((n3) => {
          c2.l && n3.navigationId && b(c2.l, n3);
          const e2 = Math.max((n3.presentationTime || n3.paintTime || 0) - n3.startTime, 0);
          g2 = l("FCP", e2, "soft-navigation", n3.navigationId, n3.interactionId, n3.name, n3.startTime), h2 = i(t2, g2, E, s2.reportAllChanges), h2(true);
        });
      }, s2);
    }
  });
};
var L = [0.1, 0.25];
var P = (t2, s2 = {}) => {
  const a2 = d();
  M(T(() => {
    let r2, c2 = l("CLS", 0);
    const f2 = u(s2, v), h2 = (n2, e2, o2, a3, h3) => {
      c2 = l("CLS", 0, n2, e2, o2, a3, h3), f2.i = 0, r2 = i(t2, c2, L, s2.reportAllChanges);
    }, d2 = (t3 = false) => {
      f2.i > c2.value && (c2.value = f2.i, c2.entries = f2.o), r2(t3);
    }, g2 = (t3) => {
      d2(true), h2("soft-navigation", t3.navigationId, t3.interactionId, t3.name, t3.startTime);
    }, b2 = (t3) => {
      for (const n2 of t3) "soft-navigation" !== n2.entryType ? f2.h(n2) : g2(n2);
      d2();
    }, T2 = ["layout-shift"];
    p(s2) && T2.push("soft-navigation");
    const y2 = m(T2, b2);
    y2 && (r2 = i(t2, c2, L, s2.reportAllChanges), a2.onHidden(() => {
      b2(y2.takeRecords()), r2(true);
    }), e(() => {
      h2("back-forward-cache", c2.navigationId, c2.navigationInteractionId, c2.navigationURL, n()), o(r2);
    }), setTimeout(r2));
  }));
};
var w = 0;
var I = 1 / 0;
var k = 0;
var C = (t2) => {
  for (const n2 of t2) n2.interactionId && (I = Math.min(I, n2.interactionId), k = Math.max(k, n2.interactionId), w = k ? (k - I) / 7 + 1 : 0);
};
var F;
var N = () => F ? w : performance.interactionCount ?? 0;
var B = () => {
  "interactionCount" in performance || F || (F = m(["event"], C, { durationThreshold: 0 }));
};
var S = class {
  constructor() {
    __publicField(this, "u", 0);
    __publicField(this, "v", []);
    __publicField(this, "m", /* @__PURE__ */ new Map());
    __publicField(this, "p");
    __publicField(this, "T");
  }
  _() {
    return N() - this.u;
  }
  M() {
    this.u = N(), this.v.length = 0, this.m.clear();
  }
  L(t2) {
    const n2 = this._(), e2 = Math.min(this.v.length - 1, Math.floor(n2 / 50));
    return !n2 || -1 !== e2 || "soft-navigation" !== t2 && "back-forward-cache" !== t2 ? this.v[e2] : { P: 8, id: -1, entries: [] };
  }
  h(t2) {
    if (this.p?.(t2), !t2.interactionId) return;
    const n2 = this.v.at(-1);
    let e2 = this.m.get(t2.interactionId);
    if (e2 || this.v.length < 10 || t2.duration > n2.P) {
      if (e2 ? t2.duration > e2.P ? (e2.entries = [t2], e2.P = t2.duration) : t2.duration === e2.P && t2.startTime === e2.entries[0].startTime && e2.entries.push(t2) : (e2 = { id: t2.interactionId, entries: [t2], P: t2.duration }, this.m.set(e2.id, e2), this.v.push(e2)), this.v.sort((t3, n3) => n3.P - t3.P), this.v.length > 10) {
        const t3 = this.v.splice(10);
        for (const n3 of t3) this.m.delete(n3.id);
      }
      this.T?.(e2);
    }
  }
};
var q = (t2) => {
  const n2 = "requestIdleCallback" in globalThis ? 1e3 : 0, e2 = globalThis.requestIdleCallback || setTimeout, i3 = globalThis.cancelIdleCallback || clearTimeout;
  if ("hidden" === document.visibilityState) t2();
  else {
    const o2 = T(t2);
    let s2 = -1;
    const a2 = () => {
      i3(s2), o2();
    };
    addEventListener("visibilitychange", a2, { once: true, capture: true }), s2 = e2(() => {
      removeEventListener("visibilitychange", a2, { capture: true }), o2();
    }, { timeout: n2 });
  }
};
var A = [200, 500];
var x = (t2, o2 = {}) => {
  if (!globalThis.PerformanceEventTiming || !("interactionId" in PerformanceEventTiming.prototype)) return;
  const s2 = d();
  _(() => {
    B();
    let a2, r2 = l("INP");
    const c2 = u(o2, S), f2 = (n2, e2, s3, f3, h3) => {
      c2.M(), r2 = l("INP", -1, n2, e2, s3, f3, h3), a2 = i(t2, r2, A, o2.reportAllChanges);
    }, h2 = () => {
      const t3 = c2.L(r2.navigationType);
      t3 && t3.P !== r2.value && (r2.value = t3.P, r2.entries = t3.entries, a2());
    }, d2 = (t3) => {
      h2(), a2(true), f2("soft-navigation", t3.navigationId, t3.interactionId, t3.name, t3.startTime);
    }, g2 = (t3, n2 = false) => {
      q(() => {
        for (const n3 of t3) "soft-navigation" !== n3.entryType ? c2.h(n3) : d2(n3);
        h2(), n2 && a2(true);
      });
    }, v2 = ["event", "first-input"];
    p(o2) && v2.push("soft-navigation");
    const b2 = m(v2, g2, { ...o2, durationThreshold: o2.durationThreshold ?? 40 });
    a2 = i(t2, r2, A, o2.reportAllChanges), b2 && (s2.onHidden(() => {
      g2(b2.takeRecords(), true);
    }), e(() => {
      f2("back-forward-cache", r2.navigationId, r2.navigationInteractionId, r2.navigationURL, n());
    }));
  });
};
var H = class {
  constructor() {
    __publicField(this, "p");
    __publicField(this, "l");
  }
  h(t2) {
    this.p?.(t2);
  }
};
var O = [2500, 4e3];
var U = (t2, s2 = {}) => {
  let r2 = false;
  const c2 = p(s2);
  _(() => {
    let f2, h2 = d(), g2 = l("LCP");
    const v2 = u(s2, H), p2 = (n2, e2, o2, a2, c3) => {
      g2 = l("LCP", -1, n2, e2, o2, a2, c3), f2 = i(t2, g2, O, s2.reportAllChanges), r2 = false, "soft-navigation" === n2 && (h2 = d(true));
    }, T2 = (t3) => {
      v2.l && t3.navigationId && b(v2.l, t3), r2 || f2(true), p2("soft-navigation", t3.navigationId, t3.interactionId, t3.name, t3.startTime);
      const n2 = t3.getLargestInteractionContentfulPaint?.();
      n2 && y2([n2]);
    }, y2 = (t3) => {
      s2.reportAllChanges || c2 || (t3 = t3.slice(-1));
      for (const n2 of t3) {
        if (!n2) continue;
        if ("soft-navigation" === n2.entryType) {
          T2(n2);
          continue;
        }
        let t4 = 0, e2 = [], i3 = n2.startTime;
        if ("largest-contentful-paint" === n2.entryType) t4 = Math.max(n2.startTime - a(), 0), v2.h(n2), e2 = [n2];
        else if ("interaction-contentful-paint" === n2.entryType) {
          const o2 = n2;
          if (!g2.navigationId) continue;
          if ("interactionId" in o2 && o2.interactionId != g2.navigationInteractionId) continue;
          i3 = o2.largestContentfulPaint?.renderTime || 0, t4 = Math.max(i3 - n2.startTime, 0), o2.largestContentfulPaint && (v2.h(o2.largestContentfulPaint), e2 = [o2.largestContentfulPaint]);
        }
        i3 < h2.firstHiddenTime && (g2.value = t4, g2.entries = e2, f2());
      }
    }, _2 = ["largest-contentful-paint"];
    c2 && _2.push("interaction-contentful-paint", "soft-navigation");
    const E2 = m(_2, y2);
    if (E2) {
      f2 = i(t2, g2, O, s2.reportAllChanges);
      const a2 = ["keydown", "click", "visibilitychange"], h3 = (t3) => {
        if (t3.isTrusted && !r2) {
          const t4 = g2.id;
          q(() => {
            if (!r2) {
              if (!c2) {
                E2.disconnect();
                for (const t5 of a2) removeEventListener(t5, h3, { capture: true });
              }
              t4 === g2.id && (r2 = true, f2(true));
            }
          });
        }
      };
      for (const t3 of a2) addEventListener(t3, h3, { capture: true });
      e((e2) => {
        p2("back-forward-cache", g2.navigationId, g2.navigationInteractionId, g2.navigationURL, n()), f2 = i(t2, g2, O, s2.reportAllChanges), o(() => {
          g2.value = performance.now() - e2.timeStamp, r2 = true, f2(true);
        });
      });
    }
  });
};
var W = [800, 1800];
var $ = (t2) => {
  document.prerendering ? _(() => $(t2)) : "complete" !== document.readyState ? addEventListener("load", () => $(t2), true) : setTimeout(t2);
};
var D = (t2, o2 = {}) => {
  const r2 = p(o2);
  let c2 = l("TTFB"), f2 = i(t2, c2, W, o2.reportAllChanges);
  $(() => {
    const h2 = s();
    if (h2) {
      const s2 = h2.responseStart;
      if (c2.value = Math.max(s2 - a(), 0), c2.entries = [h2], f2(true), e(() => {
        c2 = l("TTFB", 0, "back-forward-cache", c2.navigationId, c2.navigationInteractionId, c2.navigationURL, n()), f2 = i(t2, c2, W, o2.reportAllChanges), f2(true);
      }), r2) {
        m(["soft-navigation"], (n2) => {
          n2.forEach((n3) => {
            n3.navigationId && (c2 = l("TTFB", 0, "soft-navigation", n3.navigationId, n3.interactionId, n3.name, n3.startTime), c2.entries = [n3], f2 = i(t2, c2, W, o2.reportAllChanges), f2(true));
          });
        }, o2);
      }
    }
  });
};

// src/vitals.ts
var ms = (n2) => Math.round(Math.max(0, n2) * 10) / 10;
var el = (n2) => n2 && n2.nodeType === 1 ? selectorOf(n2) || void 0 : void 0;
function attribution(m2) {
  const entries = m2.entries;
  const last = entries[entries.length - 1];
  if (!last) return {};
  switch (m2.name) {
    case "LCP": {
      const e2 = last;
      return { element: el(e2.element), url: e2.url || void 0 };
    }
    case "INP": {
      const es = entries;
      let e2 = es[0];
      for (const x2 of es) if (x2.processingEnd - x2.processingStart > e2.processingEnd - e2.processingStart) e2 = x2;
      const t2 = e2.target || (es.find((x2) => x2.target) || e2).target;
      return {
        element: el(t2),
        interaction_type: e2.name.startsWith("key") ? "keyboard" : "pointer",
        input_delay: ms(e2.processingStart - e2.startTime),
        processing_duration: ms(e2.processingEnd - e2.processingStart),
        presentation_delay: ms(e2.startTime + e2.duration - e2.processingEnd)
      };
    }
    case "CLS": {
      let big = last;
      for (const e2 of entries) if (e2.value > big.value) big = e2;
      const src = (big.sources || []).find((s2) => s2.node && s2.node.nodeType === 1);
      return { element: el(src && src.node), largest_shift_value: Math.round(big.value * 1e4) / 1e4, largest_shift_time: ms(big.startTime) };
    }
  }
  return {};
}
function toVital(m2, url) {
  const v2 = { name: m2.name, value: Math.max(0, m2.value) };
  if (m2.delta > 0) v2.delta = m2.delta;
  if (m2.rating) v2.rating = m2.rating;
  if (m2.navigationType) v2.navigation_type = clip(m2.navigationType, LIMITS.short);
  if (m2.id) v2.metric_id = clip(m2.id, LIMITS.short);
  v2.url = clip(url, LIMITS.url);
  const a2 = clipMap(attribution(m2), LIMITS.url);
  if (a2) v2.attribution = a2;
  return v2;
}
function instrumentVitals(c2) {
  const release = c2.cfg.release && clip(c2.cfg.release, LIMITS.short);
  const report = (m2) => c2.guard(() => {
    const v2 = toVital(m2, location.href);
    if (release) v2.attribution = { ...v2.attribution, release };
    c2.captureVital(v2);
  });
  for (const on2 of [U, x, P, M, D]) on2(report);
}

// src/sdk.ts
function createAPI(replay) {
  let client = null;
  const safe = (fn, def) => {
    if (!client) return def;
    try {
      return fn(client);
    } catch (err) {
      client.log("api", err);
      return def;
    }
  };
  const onHide = () => safe((c2) => document.visibilityState === "hidden" && c2.flushNow(), void 0);
  const onPageHide = () => safe((c2) => c2.flushNow(), void 0);
  return {
    init(options) {
      if (typeof window === "undefined" || typeof document === "undefined") return false;
      try {
        if (client) this.close();
        const c2 = new Client(options);
        client = c2;
        instrumentErrors(c2);
        instrumentFetch(c2);
        instrumentXHR(c2);
        instrumentClicks(c2);
        instrumentNavigation(c2);
        instrumentConsole(c2);
        if (c2.cfg.vitals) c2.guard(() => instrumentVitals(c2));
        window.addEventListener("visibilitychange", onHide);
        window.addEventListener("pagehide", onPageHide);
        c2.onClose(() => {
          window.removeEventListener("visibilitychange", onHide);
          window.removeEventListener("pagehide", onPageHide);
        });
        c2.enqueue("session", { state: c2.session.isNew ? "start" : "page_view", url: location.href.slice(0, 4096) }, c2.cfg.flushInterval);
        if (replay) c2.replay = c2.guard(() => replay(c2)) || null;
        return true;
      } catch (err) {
        if (typeof console !== "undefined") console.warn("[rearview] init failed: " + (err instanceof Error ? err.message : String(err)));
        client = null;
        return false;
      }
    },
    setUser: (user) => safe((c2) => c2.setUser(user), void 0),
    setTag: (key, value) => safe((c2) => c2.setTag(key, value), void 0),
    captureException: (err, ctx) => safe((c2) => c2.captureException(err, "manual", true, ctx || {}), ""),
    captureMessage: (message, level, ctx) => safe((c2) => c2.captureMessage(message, level, ctx || {}), ""),
    flagSession: (reason) => safe((c2) => {
      if (reason !== "support") return;
      c2.touch();
      c2.flag("support");
      c2.flush().catch(() => {
      });
    }, void 0),
    flush: () => safe((c2) => c2.flush(), Promise.resolve()),
    close: () => safe((c2) => {
      c2.close();
      client = null;
    }, void 0)
  };
}

// node_modules/@rrweb/record/dist/record.js
var __defProp2 = Object.defineProperty;
var __defNormalProp2 = (obj, key, value) => key in obj ? __defProp2(obj, key, { enumerable: true, configurable: true, writable: true, value }) : obj[key] = value;
var __publicField2 = (obj, key, value) => __defNormalProp2(obj, typeof key !== "symbol" ? key + "" : key, value);
var _a;
var EventType = /* @__PURE__ */ ((EventType2) => {
  EventType2[EventType2["DomContentLoaded"] = 0] = "DomContentLoaded";
  EventType2[EventType2["Load"] = 1] = "Load";
  EventType2[EventType2["FullSnapshot"] = 2] = "FullSnapshot";
  EventType2[EventType2["IncrementalSnapshot"] = 3] = "IncrementalSnapshot";
  EventType2[EventType2["Meta"] = 4] = "Meta";
  EventType2[EventType2["Custom"] = 5] = "Custom";
  EventType2[EventType2["Plugin"] = 6] = "Plugin";
  EventType2[EventType2["Asset"] = 7] = "Asset";
  return EventType2;
})(EventType || {});
var IncrementalSource = /* @__PURE__ */ ((IncrementalSource2) => {
  IncrementalSource2[IncrementalSource2["Mutation"] = 0] = "Mutation";
  IncrementalSource2[IncrementalSource2["MouseMove"] = 1] = "MouseMove";
  IncrementalSource2[IncrementalSource2["MouseInteraction"] = 2] = "MouseInteraction";
  IncrementalSource2[IncrementalSource2["Scroll"] = 3] = "Scroll";
  IncrementalSource2[IncrementalSource2["ViewportResize"] = 4] = "ViewportResize";
  IncrementalSource2[IncrementalSource2["Input"] = 5] = "Input";
  IncrementalSource2[IncrementalSource2["TouchMove"] = 6] = "TouchMove";
  IncrementalSource2[IncrementalSource2["MediaInteraction"] = 7] = "MediaInteraction";
  IncrementalSource2[IncrementalSource2["StyleSheetRule"] = 8] = "StyleSheetRule";
  IncrementalSource2[IncrementalSource2["CanvasMutation"] = 9] = "CanvasMutation";
  IncrementalSource2[IncrementalSource2["Font"] = 10] = "Font";
  IncrementalSource2[IncrementalSource2["Log"] = 11] = "Log";
  IncrementalSource2[IncrementalSource2["Drag"] = 12] = "Drag";
  IncrementalSource2[IncrementalSource2["StyleDeclaration"] = 13] = "StyleDeclaration";
  IncrementalSource2[IncrementalSource2["Selection"] = 14] = "Selection";
  IncrementalSource2[IncrementalSource2["AdoptedStyleSheet"] = 15] = "AdoptedStyleSheet";
  IncrementalSource2[IncrementalSource2["CustomElement"] = 16] = "CustomElement";
  return IncrementalSource2;
})(IncrementalSource || {});
var MouseInteractions = /* @__PURE__ */ ((MouseInteractions2) => {
  MouseInteractions2[MouseInteractions2["MouseUp"] = 0] = "MouseUp";
  MouseInteractions2[MouseInteractions2["MouseDown"] = 1] = "MouseDown";
  MouseInteractions2[MouseInteractions2["Click"] = 2] = "Click";
  MouseInteractions2[MouseInteractions2["ContextMenu"] = 3] = "ContextMenu";
  MouseInteractions2[MouseInteractions2["DblClick"] = 4] = "DblClick";
  MouseInteractions2[MouseInteractions2["Focus"] = 5] = "Focus";
  MouseInteractions2[MouseInteractions2["Blur"] = 6] = "Blur";
  MouseInteractions2[MouseInteractions2["TouchStart"] = 7] = "TouchStart";
  MouseInteractions2[MouseInteractions2["TouchMove_Departed"] = 8] = "TouchMove_Departed";
  MouseInteractions2[MouseInteractions2["TouchEnd"] = 9] = "TouchEnd";
  MouseInteractions2[MouseInteractions2["TouchCancel"] = 10] = "TouchCancel";
  return MouseInteractions2;
})(MouseInteractions || {});
var PointerTypes = /* @__PURE__ */ ((PointerTypes2) => {
  PointerTypes2[PointerTypes2["Mouse"] = 0] = "Mouse";
  PointerTypes2[PointerTypes2["Pen"] = 1] = "Pen";
  PointerTypes2[PointerTypes2["Touch"] = 2] = "Touch";
  return PointerTypes2;
})(PointerTypes || {});
var CanvasContext = /* @__PURE__ */ ((CanvasContext2) => {
  CanvasContext2[CanvasContext2["2D"] = 0] = "2D";
  CanvasContext2[CanvasContext2["WebGL"] = 1] = "WebGL";
  CanvasContext2[CanvasContext2["WebGL2"] = 2] = "WebGL2";
  return CanvasContext2;
})(CanvasContext || {});
var MediaInteractions = /* @__PURE__ */ ((MediaInteractions2) => {
  MediaInteractions2[MediaInteractions2["Play"] = 0] = "Play";
  MediaInteractions2[MediaInteractions2["Pause"] = 1] = "Pause";
  MediaInteractions2[MediaInteractions2["Seeked"] = 2] = "Seeked";
  MediaInteractions2[MediaInteractions2["VolumeChange"] = 3] = "VolumeChange";
  MediaInteractions2[MediaInteractions2["RateChange"] = 4] = "RateChange";
  return MediaInteractions2;
})(MediaInteractions || {});
var NodeType = /* @__PURE__ */ ((NodeType2) => {
  NodeType2[NodeType2["Document"] = 0] = "Document";
  NodeType2[NodeType2["DocumentType"] = 1] = "DocumentType";
  NodeType2[NodeType2["Element"] = 2] = "Element";
  NodeType2[NodeType2["Text"] = 3] = "Text";
  NodeType2[NodeType2["CDATA"] = 4] = "CDATA";
  NodeType2[NodeType2["Comment"] = 5] = "Comment";
  return NodeType2;
})(NodeType || {});
var testableAccessors = {
  Node: [
    "childNodes",
    "parentNode",
    "parentElement",
    "textContent",
    "ownerDocument",
    "firstChild",
    "lastChild",
    "nextSibling",
    "previousSibling"
  ],
  ShadowRoot: ["host", "styleSheets"],
  Element: ["shadowRoot", "querySelector", "querySelectorAll"],
  MutationObserver: []
};
var testableMethods = {
  Node: ["contains", "getRootNode"],
  ShadowRoot: ["getSelection"],
  Element: [],
  MutationObserver: ["constructor"]
};
var untaintedBasePrototype = {};
var untaintedBaseIframeCleanup = {};
var isAngularZonePresent = () => {
  return !!globalThis.Zone;
};
function getUntaintedPrototype(key) {
  if (untaintedBasePrototype[key])
    return untaintedBasePrototype[key];
  const defaultObj = globalThis[key];
  const defaultPrototype = defaultObj.prototype;
  const accessorNames = key in testableAccessors ? testableAccessors[key] : void 0;
  const isUntaintedAccessors = Boolean(
    accessorNames && // @ts-expect-error 2345
    accessorNames.every(
      (accessor) => {
        var _a2, _b;
        return Boolean(
          (_b = (_a2 = Object.getOwnPropertyDescriptor(defaultPrototype, accessor)) == null ? void 0 : _a2.get) == null ? void 0 : _b.toString().includes("[native code]")
        );
      }
    )
  );
  const methodNames = key in testableMethods ? testableMethods[key] : void 0;
  const isUntaintedMethods = Boolean(
    methodNames && methodNames.every(
      // @ts-expect-error 2345
      (method) => {
        var _a2;
        return typeof defaultPrototype[method] === "function" && ((_a2 = defaultPrototype[method]) == null ? void 0 : _a2.toString().includes("[native code]"));
      }
    )
  );
  if (isUntaintedAccessors && isUntaintedMethods && !isAngularZonePresent()) {
    untaintedBasePrototype[key] = defaultObj.prototype;
    return defaultObj.prototype;
  }
  try {
    const iframeEl = document.createElement("iframe");
    iframeEl.style.display = "none";
    document.body.appendChild(iframeEl);
    const win = iframeEl.contentWindow;
    if (!win) return defaultObj.prototype;
    const untaintedObject = win[key].prototype;
    if (!untaintedObject) {
      iframeEl.remove();
      return defaultPrototype;
    }
    const ua = navigator.userAgent;
    if (ua.includes("Safari") && !ua.includes("Chrome")) {
      iframeEl.classList.add("rr-block");
      iframeEl.setAttribute("__rrwebUntaintedMutationObserver", "");
      untaintedBaseIframeCleanup[key] = () => iframeEl.remove();
    } else {
      iframeEl.remove();
    }
    return untaintedBasePrototype[key] = untaintedObject;
  } catch {
    return defaultPrototype;
  }
}
var untaintedAccessorCache = {};
function getUntaintedAccessor(key, instance, accessor) {
  var _a2, _b;
  const cached = (_a2 = untaintedAccessorCache[key]) == null ? void 0 : _a2[accessor];
  if (cached) return cached.call(instance);
  const untaintedPrototype = getUntaintedPrototype(key);
  const untaintedAccessor = (_b = Object.getOwnPropertyDescriptor(
    untaintedPrototype,
    accessor
  )) == null ? void 0 : _b.get;
  if (!untaintedAccessor) return instance[accessor];
  (untaintedAccessorCache[key] || (untaintedAccessorCache[key] = {}))[accessor] = untaintedAccessor;
  return untaintedAccessor.call(instance);
}
var untaintedMethodCache = {};
function getUntaintedMethod(key, instance, method) {
  const cacheKey = `${key}.${String(method)}`;
  if (untaintedMethodCache[cacheKey])
    return untaintedMethodCache[cacheKey].bind(
      instance
    );
  const untaintedPrototype = getUntaintedPrototype(key);
  const untaintedMethod = untaintedPrototype[method];
  if (typeof untaintedMethod !== "function") return instance[method];
  untaintedMethodCache[cacheKey] = untaintedMethod;
  return untaintedMethod.bind(instance);
}
function ownerDocument(n2) {
  return getUntaintedAccessor("Node", n2, "ownerDocument");
}
function childNodes(n2) {
  return getUntaintedAccessor("Node", n2, "childNodes");
}
function parentNode(n2) {
  return getUntaintedAccessor("Node", n2, "parentNode");
}
function parentElement(n2) {
  return getUntaintedAccessor("Node", n2, "parentElement");
}
function textContent(n2) {
  return getUntaintedAccessor("Node", n2, "textContent");
}
function firstChild(n2) {
  return getUntaintedAccessor("Node", n2, "firstChild");
}
function lastChild(n2) {
  return getUntaintedAccessor("Node", n2, "lastChild");
}
function nextSibling(n2) {
  return getUntaintedAccessor("Node", n2, "nextSibling");
}
function previousSibling(n2) {
  return getUntaintedAccessor("Node", n2, "previousSibling");
}
function contains(n2, other) {
  return getUntaintedMethod("Node", n2, "contains")(other);
}
function getRootNode(n2) {
  return getUntaintedMethod("Node", n2, "getRootNode")();
}
function host(n2) {
  if (!n2 || !("host" in n2)) return null;
  return getUntaintedAccessor("ShadowRoot", n2, "host");
}
function styleSheets(n2) {
  return n2.styleSheets;
}
function shadowRoot(n2) {
  if (!n2 || !("shadowRoot" in n2)) return null;
  return getUntaintedAccessor("Element", n2, "shadowRoot");
}
function querySelector(n2, selectors) {
  return getUntaintedAccessor("Element", n2, "querySelector")(selectors);
}
function querySelectorAll(n2, selectors) {
  return getUntaintedAccessor("Element", n2, "querySelectorAll")(selectors);
}
function mutationObserverCtor() {
  return [
    getUntaintedPrototype("MutationObserver").constructor,
    untaintedBaseIframeCleanup["MutationObserver"] ?? (() => {
    })
  ];
}
var nowTimestamp = Date.now;
if (!/* @__PURE__ */ /[1-9][0-9]{12}/.test(Date.now().toString())) {
  nowTimestamp = () => (/* @__PURE__ */ new Date()).getTime();
}
function patch(source, name, replacement) {
  try {
    if (!(name in source)) {
      return () => {
      };
    }
    const original = source[name];
    const wrapped = replacement(original);
    if (typeof wrapped === "function") {
      wrapped.prototype = wrapped.prototype || {};
      Object.defineProperties(wrapped, {
        __rrweb_original__: {
          enumerable: false,
          value: original
        }
      });
    }
    source[name] = wrapped;
    return () => {
      source[name] = original;
    };
  } catch {
    return () => {
    };
  }
}
var index = {
  ownerDocument,
  childNodes,
  parentNode,
  parentElement,
  textContent,
  firstChild,
  lastChild,
  nextSibling,
  previousSibling,
  contains,
  getRootNode,
  host,
  styleSheets,
  shadowRoot,
  querySelector,
  querySelectorAll,
  nowTimestamp,
  mutationObserverCtor,
  patch
};
function isElement(n2) {
  return n2.nodeType === n2.ELEMENT_NODE;
}
function isShadowRoot(n2) {
  const hostEl = (
    // anchor and textarea elements also have a `host` property
    // but only shadow roots have a `mode` property
    n2 && "host" in n2 && "mode" in n2 && index.host(n2) || null
  );
  return Boolean(
    hostEl && "shadowRoot" in hostEl && index.shadowRoot(hostEl) === n2
  );
}
function isNativeShadowDom(shadowRoot2) {
  return Object.prototype.toString.call(shadowRoot2) === "[object ShadowRoot]";
}
function fixBrowserCompatibilityIssuesInCSS(cssText) {
  if (cssText.includes(" background-clip: text;") && !cssText.includes(" -webkit-background-clip: text;")) {
    cssText = cssText.replace(
      /\sbackground-clip:\s*text;/g,
      " -webkit-background-clip: text; background-clip: text;"
    );
  }
  return cssText;
}
function escapeImportStatement(rule) {
  const { cssText } = rule;
  if (cssText.split('"').length < 3) return cssText;
  const statement = ["@import", `url(${JSON.stringify(rule.href)})`];
  if (rule.layerName === "") {
    statement.push(`layer`);
  } else if (rule.layerName) {
    statement.push(`layer(${rule.layerName})`);
  }
  if (rule.supportsText) {
    statement.push(`supports(${rule.supportsText})`);
  }
  if (rule.media.length) {
    statement.push(rule.media.mediaText);
  }
  return statement.join(" ") + ";";
}
function stringifyStylesheet(s2) {
  try {
    const rules = s2.rules || s2.cssRules;
    if (!rules) {
      return null;
    }
    let sheetHref = s2.href;
    if (!sheetHref && s2.ownerNode) {
      sheetHref = s2.ownerNode.baseURI;
    }
    const stringifiedRules = Array.from(
      rules,
      (rule) => stringifyRule(rule, sheetHref)
    ).join("");
    return fixBrowserCompatibilityIssuesInCSS(stringifiedRules);
  } catch (error) {
    return null;
  }
}
function stringifyRule(rule, sheetHref) {
  if (isCSSImportRule(rule)) {
    let importStringified;
    try {
      importStringified = // for same-origin stylesheets,
      // we can access the imported stylesheet rules directly
      stringifyStylesheet(rule.styleSheet) || // work around browser issues with the raw string `@import url(...)` statement
      escapeImportStatement(rule);
    } catch (error) {
      importStringified = rule.cssText;
    }
    if (rule.styleSheet.href) {
      return absolutifyURLs(importStringified, rule.styleSheet.href);
    }
    return importStringified;
  } else {
    let ruleStringified = rule.cssText;
    if (isCSSStyleRule(rule) && rule.selectorText.includes(":")) {
      ruleStringified = fixSafariColons(ruleStringified);
    }
    if (sheetHref) {
      return absolutifyURLs(ruleStringified, sheetHref);
    }
    return ruleStringified;
  }
}
function fixSafariColons(cssStringified) {
  const regex = /(\[(?:[\w-]+)[^\\])(:(?:[\w-]+)\])/gm;
  return cssStringified.replace(regex, "$1\\$2");
}
function isCSSImportRule(rule) {
  return "styleSheet" in rule;
}
function isCSSStyleRule(rule) {
  return "selectorText" in rule;
}
var Mirror = class {
  constructor() {
    __publicField2(this, "idNodeMap", /* @__PURE__ */ new Map());
    __publicField2(this, "nodeMetaMap", /* @__PURE__ */ new WeakMap());
  }
  getId(n2) {
    var _a2;
    if (!n2) return -1;
    const id = (_a2 = this.getMeta(n2)) == null ? void 0 : _a2.id;
    return id ?? -1;
  }
  getNode(id) {
    return this.idNodeMap.get(id) || null;
  }
  getIds() {
    return Array.from(this.idNodeMap.keys());
  }
  getMeta(n2) {
    return this.nodeMetaMap.get(n2) || null;
  }
  // removes the node from idNodeMap
  // doesn't remove the node from nodeMetaMap
  removeNodeFromMap(n2) {
    const id = this.getId(n2);
    this.idNodeMap.delete(id);
    if (n2.childNodes) {
      n2.childNodes.forEach(
        (childNode) => this.removeNodeFromMap(childNode)
      );
    }
  }
  has(id) {
    return this.idNodeMap.has(id);
  }
  hasNode(node) {
    return this.nodeMetaMap.has(node);
  }
  add(n2, meta) {
    const id = meta.id;
    this.idNodeMap.set(id, n2);
    this.nodeMetaMap.set(n2, meta);
  }
  replace(id, n2) {
    const oldNode = this.getNode(id);
    if (oldNode) {
      const meta = this.nodeMetaMap.get(oldNode);
      if (meta) this.nodeMetaMap.set(n2, meta);
    }
    this.idNodeMap.set(id, n2);
  }
  reset() {
    this.idNodeMap = /* @__PURE__ */ new Map();
    this.nodeMetaMap = /* @__PURE__ */ new WeakMap();
  }
};
function createMirror() {
  return new Mirror();
}
function maskInputValue({
  element,
  maskInputOptions,
  tagName,
  type,
  value,
  maskInputFn
}) {
  let text = value || "";
  const actualType = type && toLowerCase(type);
  if (maskInputOptions[tagName.toLowerCase()] || actualType && maskInputOptions[actualType]) {
    if (maskInputFn) {
      text = maskInputFn(text, element);
    } else {
      text = "*".repeat(text.length);
    }
  }
  return text;
}
function toLowerCase(str) {
  return str.toLowerCase();
}
var ORIGINAL_ATTRIBUTE_NAME = "__rrweb_original__";
function is2DCanvasBlank(canvas) {
  const ctx = canvas.getContext("2d");
  if (!ctx) return true;
  const chunkSize = 50;
  for (let x2 = 0; x2 < canvas.width; x2 += chunkSize) {
    for (let y2 = 0; y2 < canvas.height; y2 += chunkSize) {
      const getImageData = ctx.getImageData;
      const originalGetImageData = ORIGINAL_ATTRIBUTE_NAME in getImageData ? getImageData[ORIGINAL_ATTRIBUTE_NAME] : getImageData;
      const pixelBuffer = new Uint32Array(
        // eslint-disable-next-line @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-member-access
        originalGetImageData.call(
          ctx,
          x2,
          y2,
          Math.min(chunkSize, canvas.width - x2),
          Math.min(chunkSize, canvas.height - y2)
        ).data.buffer
      );
      if (pixelBuffer.some((pixel) => pixel !== 0)) return false;
    }
  }
  return true;
}
function getInputType(element) {
  const type = element.type;
  return element.hasAttribute("data-rr-is-password") ? "password" : type ? (
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    toLowerCase(type)
  ) : null;
}
function extractFileExtension(path, baseURL) {
  let url;
  try {
    url = new URL(path, baseURL ?? window.location.href);
  } catch (err) {
    return null;
  }
  const regex = /\.([0-9a-z]+)(?:$)/i;
  const match = url.pathname.match(regex);
  return (match == null ? void 0 : match[1]) ?? null;
}
function extractOrigin(url) {
  let origin = "";
  if (url.indexOf("//") > -1) {
    origin = url.split("/").slice(0, 3).join("/");
  } else {
    origin = url.split("/")[0];
  }
  origin = origin.split("?")[0];
  return origin;
}
var URL_IN_CSS_REF = /url\((?:(')([^']*)'|(")(.*?)"|([^)]*))\)/gm;
var URL_PROTOCOL_MATCH = /^(?:[a-z+]+:)?\/\//i;
var URL_WWW_MATCH = /^www\..*/i;
var DATA_URI = /^(data:)([^,]*),(.*)/i;
function absolutifyURLs(cssText, href) {
  return (cssText || "").replace(
    URL_IN_CSS_REF,
    (origin, quote1, path1, quote2, path2, path3) => {
      const filePath = path1 || path2 || path3;
      const maybeQuote = quote1 || quote2 || "";
      if (!filePath) {
        return origin;
      }
      if (URL_PROTOCOL_MATCH.test(filePath) || URL_WWW_MATCH.test(filePath)) {
        return `url(${maybeQuote}${filePath}${maybeQuote})`;
      }
      if (DATA_URI.test(filePath)) {
        return `url(${maybeQuote}${filePath}${maybeQuote})`;
      }
      if (filePath[0] === "/") {
        return `url(${maybeQuote}${extractOrigin(href) + filePath}${maybeQuote})`;
      }
      const filePathNoHash = filePath.split("#")[0];
      const maybeHash = filePath.substring(filePathNoHash.length);
      const stack = href.split("#")[0].split("/");
      const parts = filePathNoHash.split("/");
      stack.pop();
      for (const part of parts) {
        if (part === ".") {
          continue;
        } else if (part === "..") {
          stack.pop();
        } else {
          stack.push(part);
        }
      }
      return `url(${maybeQuote}${stack.join("/")}${maybeHash}${maybeQuote})`;
    }
  );
}
function normalizeCssString(cssText, _testNoPxNorm = false) {
  if (_testNoPxNorm) {
    return cssText.replace(/(\/\*[^*]*\*\/)|[\s;]/g, "");
  } else {
    return cssText.replace(/(\/\*[^*]*\*\/)|[\s;]/g, "").replace(/0px/g, "0");
  }
}
function splitCssText(cssText, style, _testNoPxNorm = false) {
  const childNodes2 = Array.from(style.childNodes);
  const splits = [];
  let iterCount = 0;
  if (childNodes2.length > 1 && cssText && typeof cssText === "string") {
    let cssTextNorm = normalizeCssString(cssText, _testNoPxNorm);
    const normFactor = cssTextNorm.length / cssText.length;
    for (let i3 = 1; i3 < childNodes2.length; i3++) {
      if (childNodes2[i3].textContent && typeof childNodes2[i3].textContent === "string") {
        const textContentNorm = normalizeCssString(
          childNodes2[i3].textContent,
          _testNoPxNorm
        );
        const jLimit = 100;
        let j = 3;
        for (; j < textContentNorm.length; j++) {
          if (
            // keep consuming css identifiers (to get a decent chunk more quickly)
            textContentNorm[j].match(/[a-zA-Z0-9]/) || // substring needs to be unique to this section
            textContentNorm.indexOf(textContentNorm.substring(0, j), 1) !== -1
          ) {
            continue;
          }
          break;
        }
        for (; j < textContentNorm.length; j++) {
          let startSubstring = textContentNorm.substring(0, j);
          let cssNormSplits = cssTextNorm.split(startSubstring);
          let splitNorm = -1;
          if (cssNormSplits.length === 2) {
            splitNorm = cssNormSplits[0].length;
          } else if (cssNormSplits.length > 2 && cssNormSplits[0] === "" && childNodes2[i3 - 1].textContent !== "") {
            splitNorm = cssTextNorm.indexOf(startSubstring, 1);
          } else if (cssNormSplits.length === 1) {
            startSubstring = startSubstring.substring(
              0,
              startSubstring.length - 1
            );
            cssNormSplits = cssTextNorm.split(startSubstring);
            if (cssNormSplits.length <= 1) {
              splits.push(cssText);
              return splits;
            }
            j = jLimit + 1;
          } else if (j === textContentNorm.length - 1) {
            splitNorm = cssTextNorm.indexOf(startSubstring);
          }
          if (cssNormSplits.length >= 2 && j > jLimit) {
            const prevTextContent = childNodes2[i3 - 1].textContent;
            if (prevTextContent && typeof prevTextContent === "string") {
              const prevMinLength = normalizeCssString(prevTextContent).length;
              splitNorm = cssTextNorm.indexOf(startSubstring, prevMinLength);
            }
            if (splitNorm === -1) {
              splitNorm = cssNormSplits[0].length;
            }
          }
          if (splitNorm !== -1) {
            let k2 = Math.floor(splitNorm / normFactor);
            for (; k2 > 0 && k2 < cssText.length; ) {
              iterCount += 1;
              if (iterCount > 50 * childNodes2.length) {
                splits.push(cssText);
                return splits;
              }
              const normPart = normalizeCssString(
                cssText.substring(0, k2),
                _testNoPxNorm
              );
              if (normPart.length === splitNorm) {
                splits.push(cssText.substring(0, k2));
                cssText = cssText.substring(k2);
                cssTextNorm = cssTextNorm.substring(splitNorm);
                break;
              } else if (normPart.length < splitNorm) {
                k2 += Math.max(
                  1,
                  Math.floor((splitNorm - normPart.length) / normFactor)
                );
              } else {
                k2 -= Math.max(
                  1,
                  Math.floor((normPart.length - splitNorm) * normFactor)
                );
              }
            }
            break;
          }
        }
      }
    }
  }
  splits.push(cssText);
  return splits;
}
function markCssSplits(cssText, style) {
  return splitCssText(cssText, style).join("/* rr_split */");
}
var _id = 1;
var tagNameRegex = new RegExp("[^a-z0-9-_:]");
var IGNORED_NODE = -2;
function genId() {
  return _id++;
}
function getValidTagName(element) {
  if (element instanceof HTMLFormElement) {
    return "form";
  }
  const processedTagName = toLowerCase(element.tagName);
  if (tagNameRegex.test(processedTagName)) {
    return "div";
  }
  return processedTagName;
}
var canvasService;
var canvasCtx;
var SRCSET_NOT_SPACES = /^[^ \t\n\r\u000c]+/;
var SRCSET_COMMAS_OR_SPACES = /^[, \t\n\r\u000c]+/;
function getAbsoluteSrcsetString(doc, attributeValue) {
  if (attributeValue.trim() === "") {
    return attributeValue;
  }
  let pos = 0;
  function collectCharacters(regEx) {
    let chars2;
    const match = regEx.exec(attributeValue.substring(pos));
    if (match) {
      chars2 = match[0];
      pos += chars2.length;
      return chars2;
    }
    return "";
  }
  const output = [];
  while (true) {
    collectCharacters(SRCSET_COMMAS_OR_SPACES);
    if (pos >= attributeValue.length) {
      break;
    }
    let url = collectCharacters(SRCSET_NOT_SPACES);
    if (url.slice(-1) === ",") {
      url = absoluteToDoc(doc, url.substring(0, url.length - 1));
      output.push(url);
    } else {
      let descriptorsStr = "";
      url = absoluteToDoc(doc, url);
      let inParens = false;
      while (true) {
        const c2 = attributeValue.charAt(pos);
        if (c2 === "") {
          output.push((url + descriptorsStr).trim());
          break;
        } else if (!inParens) {
          if (c2 === ",") {
            pos += 1;
            output.push((url + descriptorsStr).trim());
            break;
          } else if (c2 === "(") {
            inParens = true;
          }
        } else {
          if (c2 === ")") {
            inParens = false;
          }
        }
        descriptorsStr += c2;
        pos += 1;
      }
    }
  }
  return output.join(", ");
}
var cachedDocument = /* @__PURE__ */ new WeakMap();
function absoluteToDoc(doc, attributeValue) {
  if (!attributeValue || attributeValue.trim() === "") {
    return attributeValue;
  }
  return getHref(doc, attributeValue);
}
function isSVGElement(el2) {
  return Boolean(el2.tagName === "svg" || el2.ownerSVGElement);
}
function getHref(doc, customHref) {
  let a2 = cachedDocument.get(doc);
  if (!a2) {
    a2 = doc.createElement("a");
    cachedDocument.set(doc, a2);
  }
  if (!customHref) {
    customHref = "";
  } else if (customHref.startsWith("blob:") || customHref.startsWith("data:")) {
    return customHref;
  }
  a2.setAttribute("href", customHref);
  return a2.href;
}
function transformAttribute(doc, tagName, name, value) {
  if (!value) {
    return value;
  }
  if (name === "src" || name === "href" && !(tagName === "use" && value[0] === "#")) {
    return absoluteToDoc(doc, value);
  } else if (name === "xlink:href" && value[0] !== "#") {
    return absoluteToDoc(doc, value);
  } else if (name === "background" && ["table", "td", "th"].includes(tagName)) {
    return absoluteToDoc(doc, value);
  } else if (name === "srcset") {
    return getAbsoluteSrcsetString(doc, value);
  } else if (name === "style") {
    return absolutifyURLs(value, getHref(doc));
  } else if (tagName === "object" && name === "data") {
    return absoluteToDoc(doc, value);
  }
  return value;
}
function ignoreAttribute(tagName, name, _value) {
  return ["video", "audio"].includes(tagName) && toLowerCase(name) === "autoplay";
}
function _isBlockedElement(element, blockClass, blockSelector) {
  try {
    if (typeof blockClass === "string") {
      if (element.classList.contains(blockClass)) {
        return true;
      }
    } else {
      for (let eIndex = element.classList.length; eIndex--; ) {
        const className = element.classList[eIndex];
        if (blockClass.test(className)) {
          return true;
        }
      }
    }
    if (blockSelector) {
      return element.matches(blockSelector);
    }
  } catch (e2) {
  }
  return false;
}
function classMatchesRegex(node, regex, checkAncestors) {
  if (!node) return false;
  if (node.nodeType !== node.ELEMENT_NODE) {
    if (!checkAncestors) return false;
    return classMatchesRegex(index.parentNode(node), regex, checkAncestors);
  }
  for (let eIndex = node.classList.length; eIndex--; ) {
    const className = node.classList[eIndex];
    if (regex.test(className)) {
      return true;
    }
  }
  if (!checkAncestors) return false;
  return classMatchesRegex(index.parentNode(node), regex, checkAncestors);
}
function needMaskingText(node, maskTextClass, maskTextSelector, checkAncestors) {
  let el2;
  if (isElement(node)) {
    el2 = node;
    if (!index.childNodes(el2).length) {
      return false;
    }
  } else if (index.parentElement(node) === null) {
    return false;
  } else {
    el2 = index.parentElement(node);
  }
  try {
    if (typeof maskTextClass === "string") {
      if (checkAncestors) {
        if (el2.closest(`.${maskTextClass}`)) return true;
      } else {
        if (el2.classList.contains(maskTextClass)) return true;
      }
    } else {
      if (classMatchesRegex(el2, maskTextClass, checkAncestors)) return true;
    }
    if (maskTextSelector) {
      if (checkAncestors) {
        if (el2.closest(maskTextSelector)) return true;
      } else {
        if (el2.matches(maskTextSelector)) return true;
      }
    }
  } catch (e2) {
  }
  return false;
}
function onceIframeLoaded(iframeEl, listener, iframeLoadTimeout) {
  const win = iframeEl.contentWindow;
  if (!win) {
    return;
  }
  let fired = false;
  let readyState;
  try {
    readyState = win.document.readyState;
  } catch (error) {
    return;
  }
  if (readyState !== "complete") {
    const timer = setTimeout(() => {
      if (!fired) {
        listener();
        fired = true;
      }
    }, iframeLoadTimeout);
    iframeEl.addEventListener("load", () => {
      clearTimeout(timer);
      fired = true;
      listener();
    });
    return;
  }
  const blankUrl = "about:blank";
  if (win.location.href !== blankUrl || iframeEl.src === blankUrl || iframeEl.src === "") {
    setTimeout(listener, 0);
    return iframeEl.addEventListener("load", listener);
  }
  iframeEl.addEventListener("load", listener);
}
function onceStylesheetLoaded(link, listener, styleSheetLoadTimeout) {
  let fired = false;
  let styleSheetLoaded;
  try {
    styleSheetLoaded = link.sheet;
  } catch (error) {
    return;
  }
  if (styleSheetLoaded) return;
  const timer = setTimeout(() => {
    if (!fired) {
      listener();
      fired = true;
    }
  }, styleSheetLoadTimeout);
  link.addEventListener("load", () => {
    clearTimeout(timer);
    fired = true;
    listener();
  });
}
function serializeNode(n2, options) {
  const {
    doc,
    mirror: mirror2,
    blockClass,
    blockSelector,
    needsMask,
    inlineStylesheet,
    maskInputOptions = {},
    maskTextFn,
    maskInputFn,
    dataURLOptions = {},
    inlineImages,
    recordCanvas,
    keepIframeSrcFn,
    newlyAddedElement = false,
    cssCaptured = false
  } = options;
  const rootId = getRootId(doc, mirror2);
  switch (n2.nodeType) {
    case n2.DOCUMENT_NODE:
      if (n2.compatMode !== "CSS1Compat") {
        return {
          type: NodeType.Document,
          childNodes: [],
          compatMode: n2.compatMode
          // probably "BackCompat"
        };
      } else {
        return {
          type: NodeType.Document,
          childNodes: []
        };
      }
    case n2.DOCUMENT_TYPE_NODE:
      return {
        type: NodeType.DocumentType,
        name: n2.name,
        publicId: n2.publicId,
        systemId: n2.systemId,
        rootId
      };
    case n2.ELEMENT_NODE:
      return serializeElementNode(n2, {
        doc,
        blockClass,
        blockSelector,
        inlineStylesheet,
        maskInputOptions,
        maskInputFn,
        dataURLOptions,
        inlineImages,
        recordCanvas,
        keepIframeSrcFn,
        newlyAddedElement,
        rootId
      });
    case n2.TEXT_NODE:
      return serializeTextNode(n2, {
        doc,
        needsMask,
        maskTextFn,
        rootId,
        cssCaptured
      });
    case n2.CDATA_SECTION_NODE:
      return {
        type: NodeType.CDATA,
        textContent: "",
        rootId
      };
    case n2.COMMENT_NODE:
      return {
        type: NodeType.Comment,
        textContent: index.textContent(n2) || "",
        rootId
      };
    default:
      return false;
  }
}
function getRootId(doc, mirror2) {
  if (!mirror2.hasNode(doc)) return void 0;
  const docId = mirror2.getId(doc);
  return docId === 1 ? void 0 : docId;
}
function serializeTextNode(n2, options) {
  const { needsMask, maskTextFn, rootId, cssCaptured } = options;
  const parent = index.parentNode(n2);
  const parentTagName = parent && parent.tagName;
  let textContent2 = "";
  const isStyle = parentTagName === "STYLE" ? true : void 0;
  const isScript = parentTagName === "SCRIPT" ? true : void 0;
  if (isScript) {
    textContent2 = "SCRIPT_PLACEHOLDER";
  } else if (!cssCaptured) {
    textContent2 = index.textContent(n2);
    if (isStyle && textContent2) {
      textContent2 = absolutifyURLs(textContent2, getHref(options.doc));
    }
  }
  if (!isStyle && !isScript && textContent2 && needsMask) {
    textContent2 = maskTextFn ? maskTextFn(textContent2, index.parentElement(n2)) : textContent2.replace(/[\S]/g, "*");
  }
  return {
    type: NodeType.Text,
    textContent: textContent2 || "",
    rootId
  };
}
function serializeElementNode(n2, options) {
  const {
    doc,
    blockClass,
    blockSelector,
    inlineStylesheet,
    maskInputOptions = {},
    maskInputFn,
    dataURLOptions = {},
    inlineImages,
    recordCanvas,
    keepIframeSrcFn,
    newlyAddedElement = false,
    rootId
  } = options;
  const needBlock = _isBlockedElement(n2, blockClass, blockSelector);
  const tagName = getValidTagName(n2);
  let attributes = {};
  const len = n2.attributes.length;
  for (let i3 = 0; i3 < len; i3++) {
    const attr = n2.attributes[i3];
    if (!ignoreAttribute(tagName, attr.name, attr.value)) {
      attributes[attr.name] = transformAttribute(
        doc,
        tagName,
        toLowerCase(attr.name),
        attr.value
      );
    }
  }
  if (tagName === "link" && inlineStylesheet) {
    const stylesheet = Array.from(doc.styleSheets).find((s2) => {
      return s2.href === n2.href;
    });
    let cssText = null;
    if (stylesheet) {
      cssText = stringifyStylesheet(stylesheet);
    }
    if (cssText) {
      delete attributes.rel;
      delete attributes.href;
      attributes._cssText = cssText;
    }
  }
  if (tagName === "style" && n2.sheet) {
    let cssText = stringifyStylesheet(
      n2.sheet
    );
    if (cssText) {
      if (n2.childNodes.length > 1) {
        cssText = markCssSplits(cssText, n2);
      }
      attributes._cssText = cssText;
    }
  }
  if (["input", "textarea", "select"].includes(tagName)) {
    const value = n2.value;
    const checked = n2.checked;
    if (attributes.type !== "radio" && attributes.type !== "checkbox" && attributes.type !== "submit" && attributes.type !== "button" && value) {
      attributes.value = maskInputValue({
        element: n2,
        type: getInputType(n2),
        tagName,
        value,
        maskInputOptions,
        maskInputFn
      });
    } else if (checked) {
      attributes.checked = checked;
    }
  }
  if (tagName === "option") {
    if (n2.selected && !maskInputOptions["select"]) {
      attributes.selected = true;
    } else {
      delete attributes.selected;
    }
  }
  if (tagName === "dialog" && n2.open) {
    attributes.rr_open_mode = n2.matches("dialog:modal") ? "modal" : "non-modal";
  }
  if (tagName === "canvas" && recordCanvas) {
    if (n2.__context === "2d") {
      if (!is2DCanvasBlank(n2)) {
        attributes.rr_dataURL = n2.toDataURL(
          dataURLOptions.type,
          dataURLOptions.quality
        );
      }
    } else if (!("__context" in n2)) {
      const canvasDataURL = n2.toDataURL(
        dataURLOptions.type,
        dataURLOptions.quality
      );
      const blankCanvas = doc.createElement("canvas");
      blankCanvas.width = n2.width;
      blankCanvas.height = n2.height;
      const blankCanvasDataURL = blankCanvas.toDataURL(
        dataURLOptions.type,
        dataURLOptions.quality
      );
      if (canvasDataURL !== blankCanvasDataURL) {
        attributes.rr_dataURL = canvasDataURL;
      }
    }
  }
  if (tagName === "img" && inlineImages) {
    if (!canvasService) {
      canvasService = doc.createElement("canvas");
      canvasCtx = canvasService.getContext("2d");
    }
    const image = n2;
    const imageSrc = image.currentSrc || image.getAttribute("src") || "<unknown-src>";
    const priorCrossOrigin = image.crossOrigin;
    const recordInlineImage = () => {
      image.removeEventListener("load", recordInlineImage);
      try {
        canvasService.width = image.naturalWidth;
        canvasService.height = image.naturalHeight;
        canvasCtx.drawImage(image, 0, 0);
        attributes.rr_dataURL = canvasService.toDataURL(
          dataURLOptions.type,
          dataURLOptions.quality
        );
      } catch (err) {
        if (image.crossOrigin !== "anonymous") {
          image.crossOrigin = "anonymous";
          if (image.complete && image.naturalWidth !== 0)
            recordInlineImage();
          else image.addEventListener("load", recordInlineImage);
          return;
        } else {
          console.warn(
            `Cannot inline img src=${imageSrc}! Error: ${err}`
          );
        }
      }
      if (image.crossOrigin === "anonymous") {
        priorCrossOrigin ? attributes.crossOrigin = priorCrossOrigin : image.removeAttribute("crossorigin");
      }
    };
    if (image.complete && image.naturalWidth !== 0) recordInlineImage();
    else image.addEventListener("load", recordInlineImage);
  }
  if (["audio", "video"].includes(tagName)) {
    const mediaAttributes = attributes;
    mediaAttributes.rr_mediaState = n2.paused ? "paused" : "played";
    mediaAttributes.rr_mediaCurrentTime = n2.currentTime;
    mediaAttributes.rr_mediaPlaybackRate = n2.playbackRate;
    mediaAttributes.rr_mediaMuted = n2.muted;
    mediaAttributes.rr_mediaLoop = n2.loop;
    mediaAttributes.rr_mediaVolume = n2.volume;
  }
  if (!newlyAddedElement) {
    if (n2.scrollLeft) {
      attributes.rr_scrollLeft = n2.scrollLeft;
    }
    if (n2.scrollTop) {
      attributes.rr_scrollTop = n2.scrollTop;
    }
  }
  if (needBlock) {
    const { width, height } = n2.getBoundingClientRect();
    attributes = {
      class: attributes.class,
      rr_width: `${width}px`,
      rr_height: `${height}px`
    };
  }
  if (tagName === "iframe" && !keepIframeSrcFn(attributes.src)) {
    if (!n2.contentDocument) {
      attributes.rr_src = attributes.src;
    }
    delete attributes.src;
  }
  let isCustomElement;
  try {
    if (customElements.get(tagName)) isCustomElement = true;
  } catch (e2) {
  }
  return {
    type: NodeType.Element,
    tagName,
    attributes,
    childNodes: [],
    isSVG: isSVGElement(n2) || void 0,
    needBlock,
    rootId,
    isCustom: isCustomElement
  };
}
function lowerIfExists(maybeAttr) {
  if (maybeAttr === void 0 || maybeAttr === null) {
    return "";
  } else {
    return maybeAttr.toLowerCase();
  }
}
function slimDOMDefaults(_slimDOMOptions) {
  if (_slimDOMOptions === true || _slimDOMOptions === "all") {
    return {
      script: true,
      comment: true,
      headFavicon: true,
      headWhitespace: true,
      headMetaSocial: true,
      headMetaRobots: true,
      headMetaHttpEquiv: true,
      headMetaVerification: true,
      // the following are off for slimDOMOptions === true,
      // as they destroy some (hidden) info:
      headMetaAuthorship: _slimDOMOptions === "all",
      headMetaDescKeywords: _slimDOMOptions === "all",
      headTitleMutations: _slimDOMOptions === "all"
    };
  } else if (_slimDOMOptions) {
    return _slimDOMOptions;
  }
  return {};
}
function slimDOMExcluded(sn, slimDOMOptions) {
  if (slimDOMOptions.comment && sn.type === NodeType.Comment) {
    return true;
  } else if (sn.type === NodeType.Element) {
    if (slimDOMOptions.script && // script tag
    (sn.tagName === "script" || // (module)preload link
    sn.tagName === "link" && (sn.attributes.rel === "preload" && sn.attributes.as === "script" || sn.attributes.rel === "modulepreload") || // prefetch link
    sn.tagName === "link" && sn.attributes.rel === "prefetch" && typeof sn.attributes.href === "string" && extractFileExtension(sn.attributes.href) === "js")) {
      return true;
    } else if (slimDOMOptions.headFavicon && (sn.tagName === "link" && sn.attributes.rel === "shortcut icon" || sn.tagName === "meta" && (lowerIfExists(sn.attributes.name).match(
      /^msapplication-tile(image|color)$/
    ) || lowerIfExists(sn.attributes.name) === "application-name" || lowerIfExists(sn.attributes.rel) === "icon" || lowerIfExists(sn.attributes.rel) === "apple-touch-icon" || lowerIfExists(sn.attributes.rel) === "shortcut icon"))) {
      return true;
    } else if (sn.tagName === "meta") {
      if (slimDOMOptions.headMetaDescKeywords && lowerIfExists(sn.attributes.name).match(/^description|keywords$/)) {
        return true;
      } else if (slimDOMOptions.headMetaSocial && (lowerIfExists(sn.attributes.property).match(/^(og|twitter|fb):/) || // og = opengraph (facebook)
      lowerIfExists(sn.attributes.name).match(/^(og|twitter):/) || lowerIfExists(sn.attributes.name) === "pinterest")) {
        return true;
      } else if (slimDOMOptions.headMetaRobots && (lowerIfExists(sn.attributes.name) === "robots" || lowerIfExists(sn.attributes.name) === "googlebot" || lowerIfExists(sn.attributes.name) === "bingbot")) {
        return true;
      } else if (slimDOMOptions.headMetaHttpEquiv && sn.attributes["http-equiv"] !== void 0) {
        return true;
      } else if (slimDOMOptions.headMetaAuthorship && (lowerIfExists(sn.attributes.name) === "author" || lowerIfExists(sn.attributes.name) === "generator" || lowerIfExists(sn.attributes.name) === "framework" || lowerIfExists(sn.attributes.name) === "publisher" || lowerIfExists(sn.attributes.name) === "progid" || lowerIfExists(sn.attributes.property).match(/^article:/) || lowerIfExists(sn.attributes.property).match(/^product:/))) {
        return true;
      } else if (slimDOMOptions.headMetaVerification && (lowerIfExists(sn.attributes.name) === "google-site-verification" || lowerIfExists(sn.attributes.name) === "yandex-verification" || lowerIfExists(sn.attributes.name) === "csrf-token" || lowerIfExists(sn.attributes.name) === "p:domain_verify" || lowerIfExists(sn.attributes.name) === "verify-v1" || lowerIfExists(sn.attributes.name) === "verification" || lowerIfExists(sn.attributes.name) === "shopify-checkout-api-token")) {
        return true;
      }
    }
  }
  return false;
}
function serializeNodeWithId(n2, options) {
  const {
    doc,
    mirror: mirror2,
    blockClass,
    blockSelector,
    maskTextClass,
    maskTextSelector,
    skipChild = false,
    inlineStylesheet = true,
    maskInputOptions = {},
    maskTextFn,
    maskInputFn,
    slimDOMOptions,
    dataURLOptions = {},
    inlineImages = false,
    recordCanvas = false,
    onSerialize,
    onIframeLoad,
    iframeLoadTimeout = 5e3,
    onStylesheetLoad,
    stylesheetLoadTimeout = 5e3,
    keepIframeSrcFn = () => false,
    newlyAddedElement = false,
    cssCaptured = false
  } = options;
  let { needsMask } = options;
  let { preserveWhiteSpace = true } = options;
  if (!needsMask) {
    const checkAncestors = needsMask === void 0;
    needsMask = needMaskingText(
      n2,
      maskTextClass,
      maskTextSelector,
      checkAncestors
    );
  }
  const _serializedNode = serializeNode(n2, {
    doc,
    mirror: mirror2,
    blockClass,
    blockSelector,
    needsMask,
    inlineStylesheet,
    maskInputOptions,
    maskTextFn,
    maskInputFn,
    dataURLOptions,
    inlineImages,
    recordCanvas,
    keepIframeSrcFn,
    newlyAddedElement,
    cssCaptured
  });
  if (!_serializedNode) {
    console.warn(n2, "not serialized");
    return null;
  }
  let id;
  if (mirror2.hasNode(n2)) {
    id = mirror2.getId(n2);
  } else if (slimDOMExcluded(_serializedNode, slimDOMOptions) || !preserveWhiteSpace && _serializedNode.type === NodeType.Text && !_serializedNode.textContent.replace(/^\s+|\s+$/gm, "").length) {
    id = IGNORED_NODE;
  } else {
    id = genId();
  }
  const serializedNode = Object.assign(_serializedNode, { id });
  mirror2.add(n2, serializedNode);
  if (id === IGNORED_NODE) {
    return null;
  }
  if (onSerialize) {
    onSerialize(n2);
  }
  let recordChild = !skipChild;
  if (serializedNode.type === NodeType.Element) {
    recordChild = recordChild && !serializedNode.needBlock;
    delete serializedNode.needBlock;
    const shadowRootEl = index.shadowRoot(n2);
    if (shadowRootEl && isNativeShadowDom(shadowRootEl))
      serializedNode.isShadowHost = true;
  }
  if ((serializedNode.type === NodeType.Document || serializedNode.type === NodeType.Element) && recordChild) {
    if (slimDOMOptions.headWhitespace && serializedNode.type === NodeType.Element && serializedNode.tagName === "head") {
      preserveWhiteSpace = false;
    }
    const bypassOptions = {
      doc,
      mirror: mirror2,
      blockClass,
      blockSelector,
      needsMask,
      maskTextClass,
      maskTextSelector,
      skipChild,
      inlineStylesheet,
      maskInputOptions,
      maskTextFn,
      maskInputFn,
      slimDOMOptions,
      dataURLOptions,
      inlineImages,
      recordCanvas,
      preserveWhiteSpace,
      onSerialize,
      onIframeLoad,
      iframeLoadTimeout,
      onStylesheetLoad,
      stylesheetLoadTimeout,
      keepIframeSrcFn,
      cssCaptured: false
    };
    if (serializedNode.type === NodeType.Element && serializedNode.tagName === "textarea" && serializedNode.attributes.value !== void 0) ;
    else {
      if (serializedNode.type === NodeType.Element && serializedNode.attributes._cssText !== void 0 && typeof serializedNode.attributes._cssText === "string") {
        bypassOptions.cssCaptured = true;
      }
      for (const childN of Array.from(index.childNodes(n2))) {
        const serializedChildNode = serializeNodeWithId(childN, bypassOptions);
        if (serializedChildNode) {
          serializedNode.childNodes.push(serializedChildNode);
        }
      }
    }
    let shadowRootEl = null;
    if (isElement(n2) && (shadowRootEl = index.shadowRoot(n2))) {
      for (const childN of Array.from(index.childNodes(shadowRootEl))) {
        const serializedChildNode = serializeNodeWithId(childN, bypassOptions);
        if (serializedChildNode) {
          isNativeShadowDom(shadowRootEl) && (serializedChildNode.isShadow = true);
          serializedNode.childNodes.push(serializedChildNode);
        }
      }
    }
  }
  const parent = index.parentNode(n2);
  if (parent && isShadowRoot(parent) && isNativeShadowDom(parent)) {
    serializedNode.isShadow = true;
  }
  if (serializedNode.type === NodeType.Element && serializedNode.tagName === "iframe") {
    onceIframeLoaded(
      n2,
      () => {
        const iframeDoc = n2.contentDocument;
        if (iframeDoc && onIframeLoad) {
          const serializedIframeNode = serializeNodeWithId(iframeDoc, {
            doc: iframeDoc,
            mirror: mirror2,
            blockClass,
            blockSelector,
            needsMask,
            maskTextClass,
            maskTextSelector,
            skipChild: false,
            inlineStylesheet,
            maskInputOptions,
            maskTextFn,
            maskInputFn,
            slimDOMOptions,
            dataURLOptions,
            inlineImages,
            recordCanvas,
            preserveWhiteSpace,
            onSerialize,
            onIframeLoad,
            iframeLoadTimeout,
            onStylesheetLoad,
            stylesheetLoadTimeout,
            keepIframeSrcFn
          });
          if (serializedIframeNode) {
            onIframeLoad(
              n2,
              serializedIframeNode
            );
          }
        }
      },
      iframeLoadTimeout
    );
  }
  if (serializedNode.type === NodeType.Element && serializedNode.tagName === "link" && typeof serializedNode.attributes.rel === "string" && (serializedNode.attributes.rel === "stylesheet" || serializedNode.attributes.rel === "preload" && typeof serializedNode.attributes.href === "string" && extractFileExtension(serializedNode.attributes.href) === "css")) {
    onceStylesheetLoaded(
      n2,
      () => {
        if (onStylesheetLoad) {
          const serializedLinkNode = serializeNodeWithId(n2, {
            doc,
            mirror: mirror2,
            blockClass,
            blockSelector,
            needsMask,
            maskTextClass,
            maskTextSelector,
            skipChild: false,
            inlineStylesheet,
            maskInputOptions,
            maskTextFn,
            maskInputFn,
            slimDOMOptions,
            dataURLOptions,
            inlineImages,
            recordCanvas,
            preserveWhiteSpace,
            onSerialize,
            onIframeLoad,
            iframeLoadTimeout,
            onStylesheetLoad,
            stylesheetLoadTimeout,
            keepIframeSrcFn
          });
          if (serializedLinkNode) {
            onStylesheetLoad(
              n2,
              serializedLinkNode
            );
          }
        }
      },
      stylesheetLoadTimeout
    );
  }
  return serializedNode;
}
function snapshot(n2, options) {
  const {
    mirror: mirror2 = new Mirror(),
    blockClass = "rr-block",
    blockSelector = null,
    maskTextClass = "rr-mask",
    maskTextSelector = null,
    inlineStylesheet = true,
    inlineImages = false,
    recordCanvas = false,
    maskAllInputs = false,
    maskTextFn,
    maskInputFn,
    slimDOM = false,
    dataURLOptions,
    preserveWhiteSpace,
    onSerialize,
    onIframeLoad,
    iframeLoadTimeout,
    onStylesheetLoad,
    stylesheetLoadTimeout,
    keepIframeSrcFn = () => false
  } = options;
  const maskInputOptions = maskAllInputs === true ? {
    color: true,
    date: true,
    "datetime-local": true,
    email: true,
    month: true,
    number: true,
    range: true,
    search: true,
    tel: true,
    text: true,
    time: true,
    url: true,
    week: true,
    textarea: true,
    select: true,
    password: true
  } : maskAllInputs === false ? {
    password: true
  } : maskAllInputs;
  const slimDOMOptions = slimDOMDefaults(slimDOM);
  return serializeNodeWithId(n2, {
    doc: n2,
    mirror: mirror2,
    blockClass,
    blockSelector,
    maskTextClass,
    maskTextSelector,
    skipChild: false,
    inlineStylesheet,
    maskInputOptions,
    maskTextFn,
    maskInputFn,
    slimDOMOptions,
    dataURLOptions,
    inlineImages,
    recordCanvas,
    preserveWhiteSpace,
    onSerialize,
    onIframeLoad,
    iframeLoadTimeout,
    onStylesheetLoad,
    stylesheetLoadTimeout,
    keepIframeSrcFn,
    newlyAddedElement: false
  });
}
var BaseRRNode = class _BaseRRNode {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars, @typescript-eslint/no-explicit-any
  constructor(..._args) {
    __publicField2(this, "parentElement", null);
    __publicField2(this, "parentNode", null);
    __publicField2(this, "ownerDocument");
    __publicField2(this, "firstChild", null);
    __publicField2(this, "lastChild", null);
    __publicField2(this, "previousSibling", null);
    __publicField2(this, "nextSibling", null);
    __publicField2(this, "ELEMENT_NODE", 1);
    __publicField2(this, "TEXT_NODE", 3);
    __publicField2(this, "nodeType");
    __publicField2(this, "nodeName");
    __publicField2(this, "RRNodeType");
  }
  get childNodes() {
    const childNodes2 = [];
    let childIterator = this.firstChild;
    while (childIterator) {
      childNodes2.push(childIterator);
      childIterator = childIterator.nextSibling;
    }
    return childNodes2;
  }
  contains(node) {
    if (!(node instanceof _BaseRRNode)) return false;
    else if (node.ownerDocument !== this.ownerDocument) return false;
    else if (node === this) return true;
    while (node.parentNode) {
      if (node.parentNode === this) return true;
      node = node.parentNode;
    }
    return false;
  }
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  appendChild(_newChild) {
    throw new Error(
      `RRDomException: Failed to execute 'appendChild' on 'RRNode': This RRNode type does not support this method.`
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  insertBefore(_newChild, _refChild) {
    throw new Error(
      `RRDomException: Failed to execute 'insertBefore' on 'RRNode': This RRNode type does not support this method.`
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  removeChild(_node) {
    throw new Error(
      `RRDomException: Failed to execute 'removeChild' on 'RRNode': This RRNode type does not support this method.`
    );
  }
  toString() {
    return "RRNode";
  }
};
function on(type, fn, target = document) {
  const options = { capture: true, passive: true };
  target.addEventListener(type, fn, options);
  return () => target.removeEventListener(type, fn, options);
}
var DEPARTED_MIRROR_ACCESS_WARNING = "Please stop import mirror directly. Instead of that,\r\nnow you can use replayer.getMirror() to access the mirror instance of a replayer,\r\nor you can use record.mirror to access the mirror instance during recording.";
var _mirror = {
  map: {},
  getId() {
    console.error(DEPARTED_MIRROR_ACCESS_WARNING);
    return -1;
  },
  getNode() {
    console.error(DEPARTED_MIRROR_ACCESS_WARNING);
    return null;
  },
  removeNodeFromMap() {
    console.error(DEPARTED_MIRROR_ACCESS_WARNING);
  },
  has() {
    console.error(DEPARTED_MIRROR_ACCESS_WARNING);
    return false;
  },
  reset() {
    console.error(DEPARTED_MIRROR_ACCESS_WARNING);
  }
};
if (typeof window !== "undefined" && window.Proxy && window.Reflect) {
  _mirror = new Proxy(_mirror, {
    get(target, prop, receiver) {
      if (prop === "map") {
        console.error(DEPARTED_MIRROR_ACCESS_WARNING);
      }
      return Reflect.get(target, prop, receiver);
    }
  });
}
function throttle(func, wait, options = {}) {
  let timeout = null;
  let previous = 0;
  return function(...args) {
    const now = Date.now();
    if (!previous && options.leading === false) {
      previous = now;
    }
    const remaining = wait - (now - previous);
    const context = this;
    if (remaining <= 0 || remaining > wait) {
      if (timeout) {
        clearTimeout(timeout);
        timeout = null;
      }
      previous = now;
      func.apply(context, args);
    } else if (!timeout && options.trailing !== false) {
      timeout = setTimeout(() => {
        previous = options.leading === false ? 0 : Date.now();
        timeout = null;
        func.apply(context, args);
      }, remaining);
    }
  };
}
function hookSetter(target, key, d2, isRevoked, win = window) {
  const original = win.Object.getOwnPropertyDescriptor(target, key);
  win.Object.defineProperty(
    target,
    key,
    isRevoked ? d2 : {
      set(value) {
        setTimeout(() => {
          d2.set.call(this, value);
        }, 0);
        if (original && original.set) {
          original.set.call(this, value);
        }
      }
    }
  );
  return () => hookSetter(target, key, original || {}, true);
}
function getWindowScroll(win) {
  var _a2, _b, _c, _d;
  const doc = win.document;
  return {
    left: doc.scrollingElement ? doc.scrollingElement.scrollLeft : win.pageXOffset !== void 0 ? win.pageXOffset : doc.documentElement.scrollLeft || (doc == null ? void 0 : doc.body) && ((_a2 = index.parentElement(doc.body)) == null ? void 0 : _a2.scrollLeft) || ((_b = doc == null ? void 0 : doc.body) == null ? void 0 : _b.scrollLeft) || 0,
    top: doc.scrollingElement ? doc.scrollingElement.scrollTop : win.pageYOffset !== void 0 ? win.pageYOffset : (doc == null ? void 0 : doc.documentElement.scrollTop) || (doc == null ? void 0 : doc.body) && ((_c = index.parentElement(doc.body)) == null ? void 0 : _c.scrollTop) || ((_d = doc == null ? void 0 : doc.body) == null ? void 0 : _d.scrollTop) || 0
  };
}
function getWindowHeight() {
  return window.innerHeight || document.documentElement && document.documentElement.clientHeight || document.body && document.body.clientHeight;
}
function getWindowWidth() {
  return window.innerWidth || document.documentElement && document.documentElement.clientWidth || document.body && document.body.clientWidth;
}
function closestElementOfNode(node) {
  if (!node) {
    return null;
  }
  const el2 = node.nodeType === node.ELEMENT_NODE ? node : index.parentElement(node);
  return el2;
}
function isBlocked(node, blockClass, blockSelector, checkAncestors) {
  if (!node) {
    return false;
  }
  const el2 = closestElementOfNode(node);
  if (!el2) {
    return false;
  }
  try {
    if (typeof blockClass === "string") {
      if (el2.classList.contains(blockClass)) return true;
      if (checkAncestors && el2.closest("." + blockClass) !== null) return true;
    } else {
      if (classMatchesRegex(el2, blockClass, checkAncestors)) return true;
    }
  } catch (e2) {
  }
  if (blockSelector) {
    if (el2.matches(blockSelector)) return true;
    if (checkAncestors && el2.closest(blockSelector) !== null) return true;
  }
  return false;
}
function isSerialized(n2, mirror2) {
  return mirror2.getId(n2) !== -1;
}
function isIgnored(n2, mirror2, slimDOMOptions) {
  if (n2.tagName === "TITLE" && slimDOMOptions.headTitleMutations) {
    return true;
  }
  return mirror2.getId(n2) === IGNORED_NODE;
}
function isAncestorRemoved(target, mirror2) {
  if (isShadowRoot(target)) {
    return false;
  }
  const id = mirror2.getId(target);
  if (!mirror2.has(id)) {
    return true;
  }
  const parent = index.parentNode(target);
  if (parent && parent.nodeType === target.DOCUMENT_NODE) {
    return false;
  }
  if (!parent) {
    return true;
  }
  return isAncestorRemoved(parent, mirror2);
}
function legacy_isTouchEvent(event) {
  return Boolean(event.changedTouches);
}
function polyfill(win = window) {
  if ("NodeList" in win && !win.NodeList.prototype.forEach) {
    win.NodeList.prototype.forEach = Array.prototype.forEach;
  }
  if ("DOMTokenList" in win && !win.DOMTokenList.prototype.forEach) {
    win.DOMTokenList.prototype.forEach = Array.prototype.forEach;
  }
}
function isSerializedIframe(n2, mirror2) {
  return Boolean(n2.nodeName === "IFRAME" && mirror2.getMeta(n2));
}
function isSerializedStylesheet(n2, mirror2) {
  return Boolean(
    n2.nodeName === "LINK" && n2.nodeType === n2.ELEMENT_NODE && n2.getAttribute && n2.getAttribute("rel") === "stylesheet" && mirror2.getMeta(n2)
  );
}
function hasShadowRoot(n2) {
  if (!n2) return false;
  if (n2 instanceof BaseRRNode && "shadowRoot" in n2) {
    return Boolean(n2.shadowRoot);
  }
  return Boolean(index.shadowRoot(n2));
}
var StyleSheetMirror = class {
  constructor() {
    __publicField2(this, "id", 1);
    __publicField2(this, "styleIDMap", /* @__PURE__ */ new WeakMap());
    __publicField2(this, "idStyleMap", /* @__PURE__ */ new Map());
  }
  getId(stylesheet) {
    return this.styleIDMap.get(stylesheet) ?? -1;
  }
  has(stylesheet) {
    return this.styleIDMap.has(stylesheet);
  }
  /**
   * @returns If the stylesheet is in the mirror, returns the id of the stylesheet. If not, return the new assigned id.
   */
  add(stylesheet, id) {
    if (this.has(stylesheet)) return this.getId(stylesheet);
    let newId;
    if (id === void 0) {
      newId = this.id++;
    } else newId = id;
    this.styleIDMap.set(stylesheet, newId);
    this.idStyleMap.set(newId, stylesheet);
    return newId;
  }
  getStyle(id) {
    return this.idStyleMap.get(id) || null;
  }
  reset() {
    this.styleIDMap = /* @__PURE__ */ new WeakMap();
    this.idStyleMap = /* @__PURE__ */ new Map();
    this.id = 1;
  }
  generateId() {
    return this.id++;
  }
};
function getShadowHost(n2) {
  var _a2;
  let shadowHost = null;
  if ("getRootNode" in n2 && ((_a2 = index.getRootNode(n2)) == null ? void 0 : _a2.nodeType) === Node.DOCUMENT_FRAGMENT_NODE && index.host(index.getRootNode(n2)))
    shadowHost = index.host(index.getRootNode(n2));
  return shadowHost;
}
function getRootShadowHost(n2) {
  let rootShadowHost = n2;
  let shadowHost;
  while (shadowHost = getShadowHost(rootShadowHost))
    rootShadowHost = shadowHost;
  return rootShadowHost;
}
function shadowHostInDom(n2) {
  const doc = index.ownerDocument(n2);
  if (!doc) return false;
  const shadowHost = getRootShadowHost(n2);
  return index.contains(doc, shadowHost);
}
function inDom(n2) {
  const doc = index.ownerDocument(n2);
  if (!doc) return false;
  return index.contains(doc, n2) || shadowHostInDom(n2);
}
var moveKey = (id, parentId) => `${id}@${parentId}`;
var MutationBuffer = class {
  constructor() {
    __publicField2(this, "frozen", false);
    __publicField2(this, "locked", false);
    __publicField2(this, "texts", []);
    __publicField2(this, "attributes", []);
    __publicField2(this, "attributeMap", /* @__PURE__ */ new WeakMap());
    __publicField2(this, "removes", []);
    __publicField2(this, "mapRemoves", []);
    __publicField2(this, "movedMap", {});
    __publicField2(this, "addedSet", /* @__PURE__ */ new Set());
    __publicField2(this, "movedSet", /* @__PURE__ */ new Set());
    __publicField2(this, "droppedSet", /* @__PURE__ */ new Set());
    __publicField2(this, "removesSubTreeCache", /* @__PURE__ */ new Set());
    __publicField2(this, "mutationCb");
    __publicField2(this, "blockClass");
    __publicField2(this, "blockSelector");
    __publicField2(this, "maskTextClass");
    __publicField2(this, "maskTextSelector");
    __publicField2(this, "inlineStylesheet");
    __publicField2(this, "maskInputOptions");
    __publicField2(this, "maskTextFn");
    __publicField2(this, "maskInputFn");
    __publicField2(this, "keepIframeSrcFn");
    __publicField2(this, "recordCanvas");
    __publicField2(this, "inlineImages");
    __publicField2(this, "slimDOMOptions");
    __publicField2(this, "dataURLOptions");
    __publicField2(this, "doc");
    __publicField2(this, "mirror");
    __publicField2(this, "iframeManager");
    __publicField2(this, "stylesheetManager");
    __publicField2(this, "shadowDomManager");
    __publicField2(this, "canvasManager");
    __publicField2(this, "processedNodeManager");
    __publicField2(this, "unattachedDoc");
    __publicField2(this, "processMutations", (mutations) => {
      mutations.forEach(this.processMutation);
      this.emit();
    });
    __publicField2(this, "emit", () => {
      if (this.frozen || this.locked) {
        return;
      }
      const adds = [];
      const addedIds = /* @__PURE__ */ new Set();
      while (this.mapRemoves.length) {
        this.mirror.removeNodeFromMap(this.mapRemoves.shift());
      }
      for (const n22 of this.movedSet) {
        const parentNode22 = index.parentNode(n22);
        if (this.removesSubTreeCache.has(parentNode22) && !this.movedSet.has(parentNode22)) {
          continue;
        }
        this.addedSet.add(n22);
      }
      let n2 = null;
      let parentNode2 = null;
      let parentId = -1;
      let nextSibling2 = null;
      let ancestorBad = false;
      const missingParents = /* @__PURE__ */ new Set();
      const iter = this.addedSet.values();
      let curr = iter.next();
      while (this.addedSet.size) {
        if (n2 !== null && this.addedSet.has(index.previousSibling(n2))) {
          nextSibling2 = n2;
          n2 = index.previousSibling(n2);
        } else {
          if (!this.addedSet.has(curr.value)) {
            curr = iter.next();
          }
          n2 = curr.value;
          while (true) {
            parentNode2 = index.parentNode(n2);
            if (this.addedSet.has(parentNode2)) {
              n2 = parentNode2;
              continue;
            }
            break;
          }
          if (missingParents.has(parentNode2)) {
            parentNode2 = null;
          } else if (parentNode2) {
            if (!inDom(parentNode2)) {
              ancestorBad = true;
            } else {
              ancestorBad = isSelfOrAncestorInSet(this.droppedSet, parentNode2) || this.removesSubTreeCache.has(parentNode2);
              if (ancestorBad && isSelfOrAncestorInSet(this.movedSet, n2)) {
                ancestorBad = false;
              }
            }
            if (this.addedSet.has(index.lastChild(parentNode2))) {
              n2 = index.lastChild(parentNode2);
              nextSibling2 = null;
            } else {
              while (true) {
                nextSibling2 = index.nextSibling(n2);
                if (this.addedSet.has(nextSibling2)) {
                  n2 = nextSibling2;
                  continue;
                }
                break;
              }
            }
            parentId = isShadowRoot(parentNode2) ? this.mirror.getId(getShadowHost(n2)) : this.mirror.getId(parentNode2);
            if (parentId === -1 && parentNode2.nodeType === Node.DOCUMENT_FRAGMENT_NODE) {
              const shadowHost = index.host(parentNode2);
              parentId = this.mirror.getId(shadowHost);
            }
          }
        }
        this.addedSet.delete(n2);
        if (!parentNode2 || parentId === -1) {
          missingParents.add(n2);
          continue;
        } else if (ancestorBad) {
          this.droppedSet.add(n2);
          continue;
        }
        let cssCaptured = false;
        if (n2.nodeType === Node.TEXT_NODE) {
          const parentTag = parentNode2.tagName;
          if (parentTag === "TEXTAREA") {
            continue;
          } else if (parentTag === "STYLE" && addedIds.has(parentId)) {
            cssCaptured = true;
          }
        }
        let nextId = nextSibling2 ? this.mirror.getId(nextSibling2) : null;
        while (nextId === IGNORED_NODE) {
          nextSibling2 = nextSibling2 && index.nextSibling(nextSibling2);
          nextId = nextSibling2 && this.mirror.getId(nextSibling2);
        }
        if (nextId === -1) {
          console.warn(
            "Couldn't record new node. Couldn't find mirror id for nextSibling:",
            nextSibling2
          );
          n2 = null;
          continue;
        }
        const sn = serializeNodeWithId(n2, {
          doc: this.doc,
          mirror: this.mirror,
          blockClass: this.blockClass,
          blockSelector: this.blockSelector,
          maskTextClass: this.maskTextClass,
          maskTextSelector: this.maskTextSelector,
          skipChild: true,
          newlyAddedElement: true,
          inlineStylesheet: this.inlineStylesheet,
          maskInputOptions: this.maskInputOptions,
          maskTextFn: this.maskTextFn,
          maskInputFn: this.maskInputFn,
          slimDOMOptions: this.slimDOMOptions,
          dataURLOptions: this.dataURLOptions,
          recordCanvas: this.recordCanvas,
          inlineImages: this.inlineImages,
          onSerialize: (currentN) => {
            if (isSerializedIframe(currentN, this.mirror)) {
              this.iframeManager.addIframe(currentN);
            }
            if (isSerializedStylesheet(currentN, this.mirror)) {
              this.stylesheetManager.trackLinkElement(
                currentN
              );
            }
            if (hasShadowRoot(n2)) {
              this.shadowDomManager.addShadowRoot(
                index.shadowRoot(n2),
                this.doc
              );
            }
          },
          onIframeLoad: (iframe, childSn) => {
            this.iframeManager.attachIframe(iframe, childSn);
            this.shadowDomManager.observeAttachShadow(iframe);
          },
          onStylesheetLoad: (link, childSn) => {
            this.stylesheetManager.attachLinkElement(link, childSn);
          },
          cssCaptured
        });
        if (sn) {
          adds.push({
            parentId,
            nextId,
            node: sn
          });
          addedIds.add(sn.id);
        }
      }
      const payload = {
        texts: this.texts.map((text) => {
          const n22 = text.node;
          const parent = index.parentNode(n22);
          if (parent && parent.tagName === "TEXTAREA") {
            this.genTextAreaValueMutation(parent);
          }
          return {
            id: this.mirror.getId(n22),
            value: text.value
          };
        }).filter((text) => !addedIds.has(text.id)).filter((text) => this.mirror.has(text.id)),
        attributes: this.attributes.map((attribute) => {
          const { attributes } = attribute;
          if (typeof attributes.style === "string") {
            const diffAsStr = JSON.stringify(attribute.styleDiff);
            const unchangedAsStr = JSON.stringify(attribute._unchangedStyles);
            if (diffAsStr.length < attributes.style.length) {
              if ((diffAsStr + unchangedAsStr).split("var(").length === attributes.style.split("var(").length) {
                attributes.style = attribute.styleDiff;
              }
            }
          }
          return {
            id: this.mirror.getId(attribute.node),
            attributes
          };
        }).filter((attribute) => !addedIds.has(attribute.id)).filter((attribute) => this.mirror.has(attribute.id)),
        removes: this.removes,
        adds
      };
      if (!payload.texts.length && !payload.attributes.length && !payload.removes.length && !payload.adds.length) {
        return;
      }
      this.texts = [];
      this.attributes = [];
      this.attributeMap = /* @__PURE__ */ new WeakMap();
      this.removes = [];
      this.addedSet = /* @__PURE__ */ new Set();
      this.movedSet = /* @__PURE__ */ new Set();
      this.droppedSet = /* @__PURE__ */ new Set();
      this.removesSubTreeCache = /* @__PURE__ */ new Set();
      this.movedMap = {};
      this.mutationCb(payload);
    });
    __publicField2(this, "genTextAreaValueMutation", (textarea) => {
      let item = this.attributeMap.get(textarea);
      if (!item) {
        item = {
          node: textarea,
          attributes: {},
          styleDiff: {},
          _unchangedStyles: {}
        };
        this.attributes.push(item);
        this.attributeMap.set(textarea, item);
      }
      const value = Array.from(
        index.childNodes(textarea),
        (cn) => index.textContent(cn) || ""
      ).join("");
      item.attributes.value = maskInputValue({
        element: textarea,
        maskInputOptions: this.maskInputOptions,
        tagName: textarea.tagName,
        type: getInputType(textarea),
        value,
        maskInputFn: this.maskInputFn
      });
    });
    __publicField2(this, "processMutation", (m2) => {
      if (isIgnored(m2.target, this.mirror, this.slimDOMOptions)) {
        return;
      }
      switch (m2.type) {
        case "characterData": {
          const value = index.textContent(m2.target);
          if (!isBlocked(m2.target, this.blockClass, this.blockSelector, false) && value !== m2.oldValue) {
            this.texts.push({
              value: needMaskingText(
                m2.target,
                this.maskTextClass,
                this.maskTextSelector,
                true
                // checkAncestors
              ) && value ? this.maskTextFn ? this.maskTextFn(value, closestElementOfNode(m2.target)) : value.replace(/[\S]/g, "*") : value,
              node: m2.target
            });
          }
          break;
        }
        case "attributes": {
          const target = m2.target;
          const tagNameLower = toLowerCase(target.tagName);
          let attributeName = m2.attributeName;
          let value = m2.target.getAttribute(attributeName);
          if (attributeName === "value") {
            const type = getInputType(target);
            value = maskInputValue({
              element: target,
              maskInputOptions: this.maskInputOptions,
              tagName: target.tagName,
              type,
              value,
              maskInputFn: this.maskInputFn
            });
          }
          if (isBlocked(m2.target, this.blockClass, this.blockSelector, false) || value === m2.oldValue) {
            return;
          }
          let item = this.attributeMap.get(m2.target);
          if (tagNameLower === "iframe" && attributeName === "src" && !this.keepIframeSrcFn(value)) {
            if (!target.contentDocument) {
              attributeName = "rr_src";
            } else {
              return;
            }
          }
          if (!item) {
            item = {
              node: m2.target,
              attributes: {},
              styleDiff: {},
              _unchangedStyles: {}
            };
            this.attributes.push(item);
            this.attributeMap.set(m2.target, item);
          }
          if (attributeName === "type" && tagNameLower === "input" && (m2.oldValue || "").toLowerCase() === "password") {
            target.setAttribute("data-rr-is-password", "true");
          }
          if (!ignoreAttribute(tagNameLower, attributeName)) {
            item.attributes[attributeName] = transformAttribute(
              this.doc,
              tagNameLower,
              toLowerCase(attributeName),
              value
            );
            if (attributeName === "style") {
              if (!this.unattachedDoc) {
                try {
                  this.unattachedDoc = document.implementation.createHTMLDocument();
                } catch (e2) {
                  this.unattachedDoc = this.doc;
                }
              }
              const old = this.unattachedDoc.createElement("span");
              if (m2.oldValue) {
                old.setAttribute("style", m2.oldValue);
              }
              for (const pname of Array.from(target.style)) {
                const newValue = target.style.getPropertyValue(pname);
                const newPriority = target.style.getPropertyPriority(pname);
                if (newValue !== old.style.getPropertyValue(pname) || newPriority !== old.style.getPropertyPriority(pname)) {
                  if (newPriority === "") {
                    item.styleDiff[pname] = newValue;
                  } else {
                    item.styleDiff[pname] = [newValue, newPriority];
                  }
                } else {
                  item._unchangedStyles[pname] = [newValue, newPriority];
                }
              }
              for (const pname of Array.from(old.style)) {
                if (target.style.getPropertyValue(pname) === "") {
                  item.styleDiff[pname] = false;
                }
              }
            } else if (attributeName === "open" && target.tagName === "DIALOG") {
              if (target.matches("dialog:modal")) {
                item.attributes["rr_open_mode"] = "modal";
              } else {
                item.attributes["rr_open_mode"] = "non-modal";
              }
            }
          }
          break;
        }
        case "childList": {
          if (isBlocked(m2.target, this.blockClass, this.blockSelector, true))
            return;
          if (m2.target.tagName === "TEXTAREA") {
            this.genTextAreaValueMutation(m2.target);
            return;
          }
          m2.addedNodes.forEach((n2) => this.genAdds(n2, m2.target));
          m2.removedNodes.forEach((n2) => {
            const nodeId = this.mirror.getId(n2);
            const parentId = isShadowRoot(m2.target) ? this.mirror.getId(index.host(m2.target)) : this.mirror.getId(m2.target);
            if (isBlocked(m2.target, this.blockClass, this.blockSelector, false) || isIgnored(n2, this.mirror, this.slimDOMOptions) || !isSerialized(n2, this.mirror)) {
              return;
            }
            if (this.addedSet.has(n2)) {
              deepDelete(this.addedSet, n2);
              this.droppedSet.add(n2);
            } else if (this.addedSet.has(m2.target) && nodeId === -1) ;
            else if (isAncestorRemoved(m2.target, this.mirror)) ;
            else if (this.movedSet.has(n2) && this.movedMap[moveKey(nodeId, parentId)]) {
              deepDelete(this.movedSet, n2);
            } else {
              this.removes.push({
                parentId,
                id: nodeId,
                isShadow: isShadowRoot(m2.target) && isNativeShadowDom(m2.target) ? true : void 0
              });
              processRemoves(n2, this.removesSubTreeCache);
            }
            this.mapRemoves.push(n2);
          });
          break;
        }
      }
    });
    __publicField2(this, "genAdds", (n2, target) => {
      if (this.processedNodeManager.inOtherBuffer(n2, this)) return;
      if (this.addedSet.has(n2) || this.movedSet.has(n2)) return;
      if (this.mirror.hasNode(n2)) {
        if (isIgnored(n2, this.mirror, this.slimDOMOptions)) {
          return;
        }
        this.movedSet.add(n2);
        let targetId = null;
        if (target && this.mirror.hasNode(target)) {
          targetId = this.mirror.getId(target);
        }
        if (targetId && targetId !== -1) {
          this.movedMap[moveKey(this.mirror.getId(n2), targetId)] = true;
        }
      } else {
        this.addedSet.add(n2);
        this.droppedSet.delete(n2);
      }
      if (!isBlocked(n2, this.blockClass, this.blockSelector, false)) {
        index.childNodes(n2).forEach((childN) => this.genAdds(childN));
        if (hasShadowRoot(n2)) {
          index.childNodes(index.shadowRoot(n2)).forEach((childN) => {
            this.processedNodeManager.add(childN, this);
            this.genAdds(childN, n2);
          });
        }
      }
    });
  }
  init(options) {
    [
      "mutationCb",
      "blockClass",
      "blockSelector",
      "maskTextClass",
      "maskTextSelector",
      "inlineStylesheet",
      "maskInputOptions",
      "maskTextFn",
      "maskInputFn",
      "keepIframeSrcFn",
      "recordCanvas",
      "inlineImages",
      "slimDOMOptions",
      "dataURLOptions",
      "doc",
      "mirror",
      "iframeManager",
      "stylesheetManager",
      "shadowDomManager",
      "canvasManager",
      "processedNodeManager"
    ].forEach((key) => {
      this[key] = options[key];
    });
  }
  freeze() {
    this.frozen = true;
    this.canvasManager.freeze();
  }
  unfreeze() {
    this.frozen = false;
    this.canvasManager.unfreeze();
    this.emit();
  }
  isFrozen() {
    return this.frozen;
  }
  lock() {
    this.locked = true;
    this.canvasManager.lock();
  }
  unlock() {
    this.locked = false;
    this.canvasManager.unlock();
    this.emit();
  }
  reset() {
    this.shadowDomManager.reset();
    this.canvasManager.reset();
  }
};
function deepDelete(addsSet, n2) {
  addsSet.delete(n2);
  index.childNodes(n2).forEach((childN) => deepDelete(addsSet, childN));
}
function processRemoves(n2, cache2) {
  const queue = [n2];
  while (queue.length) {
    const next = queue.pop();
    if (cache2.has(next)) continue;
    cache2.add(next);
    index.childNodes(next).forEach((n22) => queue.push(n22));
  }
  return;
}
function isSelfOrAncestorInSet(set, n2) {
  if (set.size === 0) return false;
  return _isSelfOrAncestorInSet(set, n2);
}
function _isSelfOrAncestorInSet(set, n2) {
  if (set.has(n2)) {
    return true;
  }
  const parent = index.parentNode(n2);
  if (!parent) {
    return false;
  }
  return _isSelfOrAncestorInSet(set, parent);
}
var errorHandler;
function registerErrorHandler(handler) {
  errorHandler = handler;
}
function unregisterErrorHandler() {
  errorHandler = void 0;
}
var callbackWrapper = (cb) => {
  if (!errorHandler) {
    return cb;
  }
  const rrwebWrapped = (...rest) => {
    try {
      return cb(...rest);
    } catch (error) {
      if (errorHandler && errorHandler(error) === true) {
        return;
      }
      throw error;
    }
  };
  return rrwebWrapped;
};
var mutationBuffers = [];
function getEventTarget(event) {
  try {
    if ("composedPath" in event) {
      const path = event.composedPath();
      if (path.length) {
        return path[0];
      }
    } else if ("path" in event && event.path.length) {
      return event.path[0];
    }
  } catch {
  }
  return event && event.target;
}
function initMutationObserver(options, rootEl) {
  const mutationBuffer = new MutationBuffer();
  mutationBuffers.push(mutationBuffer);
  mutationBuffer.init(options);
  const [ObserverCtor, iframeCleanup] = mutationObserverCtor();
  const observer = new ObserverCtor(
    callbackWrapper(mutationBuffer.processMutations.bind(mutationBuffer))
  );
  observer.observe(rootEl, {
    attributes: true,
    attributeOldValue: true,
    characterData: true,
    characterDataOldValue: true,
    childList: true,
    subtree: true
  });
  return [observer, iframeCleanup];
}
function initMoveObserver({
  mousemoveCb,
  sampling,
  doc,
  mirror: mirror2
}) {
  if (sampling.mousemove === false) {
    return () => {
    };
  }
  const threshold = typeof sampling.mousemove === "number" ? sampling.mousemove : 50;
  const callbackThreshold = typeof sampling.mousemoveCallback === "number" ? sampling.mousemoveCallback : 500;
  let positions = [];
  let timeBaseline;
  const wrappedCb = throttle(
    callbackWrapper(
      (source) => {
        const totalOffset = Date.now() - timeBaseline;
        mousemoveCb(
          positions.map((p2) => {
            p2.timeOffset -= totalOffset;
            return p2;
          }),
          source
        );
        positions = [];
        timeBaseline = null;
      }
    ),
    callbackThreshold
  );
  const updatePosition = callbackWrapper(
    throttle(
      callbackWrapper((evt) => {
        const target = getEventTarget(evt);
        const { clientX, clientY } = legacy_isTouchEvent(evt) ? evt.changedTouches[0] : evt;
        if (!timeBaseline) {
          timeBaseline = nowTimestamp();
        }
        positions.push({
          x: clientX,
          y: clientY,
          id: mirror2.getId(target),
          timeOffset: nowTimestamp() - timeBaseline
        });
        wrappedCb(
          typeof DragEvent !== "undefined" && evt instanceof DragEvent ? IncrementalSource.Drag : evt instanceof MouseEvent ? IncrementalSource.MouseMove : IncrementalSource.TouchMove
        );
      }),
      threshold,
      {
        trailing: false
      }
    )
  );
  const handlers = [
    on("mousemove", updatePosition, doc),
    on("touchmove", updatePosition, doc),
    on("drag", updatePosition, doc)
  ];
  return callbackWrapper(() => {
    handlers.forEach((h2) => h2());
  });
}
function initMouseInteractionObserver({
  mouseInteractionCb,
  doc,
  mirror: mirror2,
  blockClass,
  blockSelector,
  sampling
}) {
  if (sampling.mouseInteraction === false) {
    return () => {
    };
  }
  const disableMap = sampling.mouseInteraction === true || sampling.mouseInteraction === void 0 ? {} : sampling.mouseInteraction;
  const handlers = [];
  let currentPointerType = null;
  const getHandler = (eventKey) => {
    return (event) => {
      const target = getEventTarget(event);
      if (isBlocked(target, blockClass, blockSelector, true)) {
        return;
      }
      let pointerType = null;
      let thisEventKey = eventKey;
      if ("pointerType" in event) {
        switch (event.pointerType) {
          case "mouse":
            pointerType = PointerTypes.Mouse;
            break;
          case "touch":
            pointerType = PointerTypes.Touch;
            break;
          case "pen":
            pointerType = PointerTypes.Pen;
            break;
        }
        if (pointerType === PointerTypes.Touch) {
          if (MouseInteractions[eventKey] === MouseInteractions.MouseDown) {
            thisEventKey = "TouchStart";
          } else if (MouseInteractions[eventKey] === MouseInteractions.MouseUp) {
            thisEventKey = "TouchEnd";
          }
        } else if (pointerType === PointerTypes.Pen) ;
      } else if (legacy_isTouchEvent(event)) {
        pointerType = PointerTypes.Touch;
      }
      if (pointerType !== null) {
        currentPointerType = pointerType;
        if (thisEventKey.startsWith("Touch") && pointerType === PointerTypes.Touch || thisEventKey.startsWith("Mouse") && pointerType === PointerTypes.Mouse) {
          pointerType = null;
        }
      } else if (MouseInteractions[eventKey] === MouseInteractions.Click) {
        pointerType = currentPointerType;
        currentPointerType = null;
      }
      const e2 = legacy_isTouchEvent(event) ? event.changedTouches[0] : event;
      if (!e2) {
        return;
      }
      const id = mirror2.getId(target);
      const { clientX, clientY } = e2;
      callbackWrapper(mouseInteractionCb)({
        type: MouseInteractions[thisEventKey],
        id,
        x: clientX,
        y: clientY,
        ...pointerType !== null && { pointerType }
      });
    };
  };
  Object.keys(MouseInteractions).filter(
    (key) => Number.isNaN(Number(key)) && !key.endsWith("_Departed") && disableMap[key] !== false
  ).forEach((eventKey) => {
    let eventName = toLowerCase(eventKey);
    const handler = getHandler(eventKey);
    if (window.PointerEvent) {
      switch (MouseInteractions[eventKey]) {
        case MouseInteractions.MouseDown:
        case MouseInteractions.MouseUp:
          eventName = eventName.replace(
            "mouse",
            "pointer"
          );
          break;
        case MouseInteractions.TouchStart:
        case MouseInteractions.TouchEnd:
          return;
      }
    }
    handlers.push(on(eventName, handler, doc));
  });
  return callbackWrapper(() => {
    handlers.forEach((h2) => h2());
  });
}
function initScrollObserver({
  scrollCb,
  doc,
  mirror: mirror2,
  blockClass,
  blockSelector,
  sampling
}) {
  const updatePosition = callbackWrapper(
    throttle(
      callbackWrapper((evt) => {
        const target = getEventTarget(evt);
        if (!target || isBlocked(target, blockClass, blockSelector, true)) {
          return;
        }
        const id = mirror2.getId(target);
        if (target === doc && doc.defaultView) {
          const scrollLeftTop = getWindowScroll(doc.defaultView);
          scrollCb({
            id,
            x: scrollLeftTop.left,
            y: scrollLeftTop.top
          });
        } else {
          scrollCb({
            id,
            x: target.scrollLeft,
            y: target.scrollTop
          });
        }
      }),
      sampling.scroll || 100
    )
  );
  return on("scroll", updatePosition, doc);
}
function initViewportResizeObserver({ viewportResizeCb }, { win }) {
  let lastH = -1;
  let lastW = -1;
  const updateDimension = callbackWrapper(
    throttle(
      callbackWrapper(() => {
        const height = getWindowHeight();
        const width = getWindowWidth();
        if (lastH !== height || lastW !== width) {
          viewportResizeCb({
            width: Number(width),
            height: Number(height)
          });
          lastH = height;
          lastW = width;
        }
      }),
      200
    )
  );
  return on("resize", updateDimension, win);
}
var INPUT_TAGS = ["INPUT", "TEXTAREA", "SELECT"];
var lastInputValueMap = /* @__PURE__ */ new WeakMap();
function initInputObserver({
  inputCb,
  doc,
  mirror: mirror2,
  blockClass,
  blockSelector,
  ignoreClass,
  ignoreSelector,
  maskInputOptions,
  maskInputFn,
  sampling,
  userTriggeredOnInput
}) {
  function eventHandler(event) {
    let target = getEventTarget(event);
    const userTriggered = event.isTrusted;
    const tagName = target && target.tagName;
    if (target && tagName === "OPTION") {
      target = index.parentElement(target);
    }
    if (!target || !tagName || INPUT_TAGS.indexOf(tagName) < 0 || isBlocked(target, blockClass, blockSelector, true)) {
      return;
    }
    if (target.classList.contains(ignoreClass) || ignoreSelector && target.matches(ignoreSelector)) {
      return;
    }
    let text = target.value;
    let isChecked = false;
    const type = getInputType(target) || "";
    if (type === "radio" || type === "checkbox") {
      isChecked = target.checked;
    } else if (maskInputOptions[tagName.toLowerCase()] || maskInputOptions[type]) {
      text = maskInputValue({
        element: target,
        maskInputOptions,
        tagName,
        type,
        value: text,
        maskInputFn
      });
    }
    cbWithDedup(
      target,
      userTriggeredOnInput ? { text, isChecked, userTriggered } : { text, isChecked }
    );
    const name = target.name;
    if (type === "radio" && name && isChecked) {
      doc.querySelectorAll(`input[type="radio"][name="${name}"]`).forEach((el2) => {
        if (el2 !== target) {
          const text2 = el2.value;
          cbWithDedup(
            el2,
            userTriggeredOnInput ? { text: text2, isChecked: !isChecked, userTriggered: false } : { text: text2, isChecked: !isChecked }
          );
        }
      });
    }
  }
  function cbWithDedup(target, v2) {
    const lastInputValue = lastInputValueMap.get(target);
    if (!lastInputValue || lastInputValue.text !== v2.text || lastInputValue.isChecked !== v2.isChecked) {
      lastInputValueMap.set(target, v2);
      const id = mirror2.getId(target);
      callbackWrapper(inputCb)({
        ...v2,
        id
      });
    }
  }
  const events = sampling.input === "last" ? ["change"] : ["input", "change"];
  const handlers = events.map(
    (eventName) => on(eventName, callbackWrapper(eventHandler), doc)
  );
  const currentWindow = doc.defaultView;
  if (!currentWindow) {
    return () => {
      handlers.forEach((h2) => h2());
    };
  }
  const propertyDescriptor = currentWindow.Object.getOwnPropertyDescriptor(
    currentWindow.HTMLInputElement.prototype,
    "value"
  );
  const hookProperties = [
    [currentWindow.HTMLInputElement.prototype, "value"],
    [currentWindow.HTMLInputElement.prototype, "checked"],
    [currentWindow.HTMLSelectElement.prototype, "value"],
    [currentWindow.HTMLTextAreaElement.prototype, "value"],
    // Some UI library use selectedIndex to set select value
    [currentWindow.HTMLSelectElement.prototype, "selectedIndex"],
    [currentWindow.HTMLOptionElement.prototype, "selected"]
  ];
  if (propertyDescriptor && propertyDescriptor.set) {
    handlers.push(
      ...hookProperties.map(
        (p2) => hookSetter(
          p2[0],
          p2[1],
          {
            set() {
              callbackWrapper(eventHandler)({
                target: this,
                isTrusted: false
                // userTriggered to false as this could well be programmatic
              });
            }
          },
          false,
          currentWindow
        )
      )
    );
  }
  return callbackWrapper(() => {
    handlers.forEach((h2) => h2());
  });
}
function getNestedCSSRulePositions(rule) {
  const positions = [];
  function recurse(childRule, pos) {
    if (hasNestedCSSRule("CSSGroupingRule") && childRule.parentRule instanceof CSSGroupingRule || hasNestedCSSRule("CSSMediaRule") && childRule.parentRule instanceof CSSMediaRule || hasNestedCSSRule("CSSSupportsRule") && childRule.parentRule instanceof CSSSupportsRule || hasNestedCSSRule("CSSConditionRule") && childRule.parentRule instanceof CSSConditionRule) {
      const rules = Array.from(
        childRule.parentRule.cssRules
      );
      const index2 = rules.indexOf(childRule);
      pos.unshift(index2);
      return recurse(childRule.parentRule, pos);
    } else if (childRule.parentStyleSheet) {
      const rules = Array.from(childRule.parentStyleSheet.cssRules);
      const index2 = rules.indexOf(childRule);
      pos.unshift(index2);
    }
    return pos;
  }
  return recurse(rule, positions);
}
function getIdAndStyleId(sheet, mirror2, styleMirror) {
  let id, styleId;
  if (!sheet) return {};
  if (sheet.ownerNode) id = mirror2.getId(sheet.ownerNode);
  else styleId = styleMirror.getId(sheet);
  return {
    styleId,
    id
  };
}
function initStyleSheetObserver({ styleSheetRuleCb, mirror: mirror2, stylesheetManager }, { win }) {
  if (!win.CSSStyleSheet || !win.CSSStyleSheet.prototype) {
    return () => {
    };
  }
  const insertRule = win.CSSStyleSheet.prototype.insertRule;
  win.CSSStyleSheet.prototype.insertRule = new Proxy(insertRule, {
    apply: callbackWrapper(
      (target, thisArg, argumentsList) => {
        const [rule, index2] = argumentsList;
        const { id, styleId } = getIdAndStyleId(
          thisArg,
          mirror2,
          stylesheetManager.styleMirror
        );
        if (id && id !== -1 || styleId && styleId !== -1) {
          styleSheetRuleCb({
            id,
            styleId,
            adds: [{ rule, index: index2 }]
          });
        }
        return target.apply(thisArg, argumentsList);
      }
    )
  });
  win.CSSStyleSheet.prototype.addRule = function(selector, styleBlock, index2 = this.cssRules.length) {
    const rule = `${selector} { ${styleBlock} }`;
    return win.CSSStyleSheet.prototype.insertRule.apply(this, [rule, index2]);
  };
  const deleteRule = win.CSSStyleSheet.prototype.deleteRule;
  win.CSSStyleSheet.prototype.deleteRule = new Proxy(deleteRule, {
    apply: callbackWrapper(
      (target, thisArg, argumentsList) => {
        const [index2] = argumentsList;
        const { id, styleId } = getIdAndStyleId(
          thisArg,
          mirror2,
          stylesheetManager.styleMirror
        );
        if (id && id !== -1 || styleId && styleId !== -1) {
          styleSheetRuleCb({
            id,
            styleId,
            removes: [{ index: index2 }]
          });
        }
        return target.apply(thisArg, argumentsList);
      }
    )
  });
  win.CSSStyleSheet.prototype.removeRule = function(index2) {
    return win.CSSStyleSheet.prototype.deleteRule.apply(this, [index2]);
  };
  let replace;
  if (win.CSSStyleSheet.prototype.replace) {
    replace = win.CSSStyleSheet.prototype.replace;
    win.CSSStyleSheet.prototype.replace = new Proxy(replace, {
      apply: callbackWrapper(
        (target, thisArg, argumentsList) => {
          const [text] = argumentsList;
          const { id, styleId } = getIdAndStyleId(
            thisArg,
            mirror2,
            stylesheetManager.styleMirror
          );
          if (id && id !== -1 || styleId && styleId !== -1) {
            styleSheetRuleCb({
              id,
              styleId,
              replace: text
            });
          }
          return target.apply(thisArg, argumentsList);
        }
      )
    });
  }
  let replaceSync;
  if (win.CSSStyleSheet.prototype.replaceSync) {
    replaceSync = win.CSSStyleSheet.prototype.replaceSync;
    win.CSSStyleSheet.prototype.replaceSync = new Proxy(replaceSync, {
      apply: callbackWrapper(
        (target, thisArg, argumentsList) => {
          const [text] = argumentsList;
          const { id, styleId } = getIdAndStyleId(
            thisArg,
            mirror2,
            stylesheetManager.styleMirror
          );
          if (id && id !== -1 || styleId && styleId !== -1) {
            styleSheetRuleCb({
              id,
              styleId,
              replaceSync: text
            });
          }
          return target.apply(thisArg, argumentsList);
        }
      )
    });
  }
  const supportedNestedCSSRuleTypes = {};
  if (canMonkeyPatchNestedCSSRule("CSSGroupingRule")) {
    supportedNestedCSSRuleTypes.CSSGroupingRule = win.CSSGroupingRule;
  } else {
    if (canMonkeyPatchNestedCSSRule("CSSMediaRule")) {
      supportedNestedCSSRuleTypes.CSSMediaRule = win.CSSMediaRule;
    }
    if (canMonkeyPatchNestedCSSRule("CSSConditionRule")) {
      supportedNestedCSSRuleTypes.CSSConditionRule = win.CSSConditionRule;
    }
    if (canMonkeyPatchNestedCSSRule("CSSSupportsRule")) {
      supportedNestedCSSRuleTypes.CSSSupportsRule = win.CSSSupportsRule;
    }
  }
  const unmodifiedFunctions = {};
  Object.entries(supportedNestedCSSRuleTypes).forEach(([typeKey, type]) => {
    unmodifiedFunctions[typeKey] = {
      // eslint-disable-next-line @typescript-eslint/unbound-method
      insertRule: type.prototype.insertRule,
      // eslint-disable-next-line @typescript-eslint/unbound-method
      deleteRule: type.prototype.deleteRule
    };
    type.prototype.insertRule = new Proxy(
      unmodifiedFunctions[typeKey].insertRule,
      {
        apply: callbackWrapper(
          (target, thisArg, argumentsList) => {
            const [rule, index2] = argumentsList;
            const { id, styleId } = getIdAndStyleId(
              thisArg.parentStyleSheet,
              mirror2,
              stylesheetManager.styleMirror
            );
            if (id && id !== -1 || styleId && styleId !== -1) {
              styleSheetRuleCb({
                id,
                styleId,
                adds: [
                  {
                    rule,
                    index: [
                      ...getNestedCSSRulePositions(thisArg),
                      index2 || 0
                      // defaults to 0
                    ]
                  }
                ]
              });
            }
            return target.apply(thisArg, argumentsList);
          }
        )
      }
    );
    type.prototype.deleteRule = new Proxy(
      unmodifiedFunctions[typeKey].deleteRule,
      {
        apply: callbackWrapper(
          (target, thisArg, argumentsList) => {
            const [index2] = argumentsList;
            const { id, styleId } = getIdAndStyleId(
              thisArg.parentStyleSheet,
              mirror2,
              stylesheetManager.styleMirror
            );
            if (id && id !== -1 || styleId && styleId !== -1) {
              styleSheetRuleCb({
                id,
                styleId,
                removes: [
                  { index: [...getNestedCSSRulePositions(thisArg), index2] }
                ]
              });
            }
            return target.apply(thisArg, argumentsList);
          }
        )
      }
    );
  });
  return callbackWrapper(() => {
    win.CSSStyleSheet.prototype.insertRule = insertRule;
    win.CSSStyleSheet.prototype.deleteRule = deleteRule;
    replace && (win.CSSStyleSheet.prototype.replace = replace);
    replaceSync && (win.CSSStyleSheet.prototype.replaceSync = replaceSync);
    Object.entries(supportedNestedCSSRuleTypes).forEach(([typeKey, type]) => {
      type.prototype.insertRule = unmodifiedFunctions[typeKey].insertRule;
      type.prototype.deleteRule = unmodifiedFunctions[typeKey].deleteRule;
    });
  });
}
function initAdoptedStyleSheetObserver({
  mirror: mirror2,
  stylesheetManager
}, host2) {
  var _a2, _b, _c;
  let hostId = null;
  if (host2.nodeName === "#document") hostId = mirror2.getId(host2);
  else hostId = mirror2.getId(index.host(host2));
  const patchTarget = host2.nodeName === "#document" ? (_a2 = host2.defaultView) == null ? void 0 : _a2.Document : (_c = (_b = host2.ownerDocument) == null ? void 0 : _b.defaultView) == null ? void 0 : _c.ShadowRoot;
  const originalPropertyDescriptor = (patchTarget == null ? void 0 : patchTarget.prototype) ? Object.getOwnPropertyDescriptor(
    patchTarget == null ? void 0 : patchTarget.prototype,
    "adoptedStyleSheets"
  ) : void 0;
  if (hostId === null || hostId === -1 || !patchTarget || !originalPropertyDescriptor)
    return () => {
    };
  Object.defineProperty(host2, "adoptedStyleSheets", {
    configurable: originalPropertyDescriptor.configurable,
    enumerable: originalPropertyDescriptor.enumerable,
    get() {
      var _a3;
      return (_a3 = originalPropertyDescriptor.get) == null ? void 0 : _a3.call(this);
    },
    set(sheets) {
      var _a3;
      const result = (_a3 = originalPropertyDescriptor.set) == null ? void 0 : _a3.call(this, sheets);
      if (hostId !== null && hostId !== -1) {
        try {
          stylesheetManager.adoptStyleSheets(sheets, hostId);
        } catch (e2) {
        }
      }
      return result;
    }
  });
  return callbackWrapper(() => {
    Object.defineProperty(host2, "adoptedStyleSheets", {
      configurable: originalPropertyDescriptor.configurable,
      enumerable: originalPropertyDescriptor.enumerable,
      // eslint-disable-next-line @typescript-eslint/unbound-method
      get: originalPropertyDescriptor.get,
      // eslint-disable-next-line @typescript-eslint/unbound-method
      set: originalPropertyDescriptor.set
    });
  });
}
function initStyleDeclarationObserver({
  styleDeclarationCb,
  mirror: mirror2,
  ignoreCSSAttributes,
  stylesheetManager
}, { win }) {
  const setProperty = win.CSSStyleDeclaration.prototype.setProperty;
  win.CSSStyleDeclaration.prototype.setProperty = new Proxy(setProperty, {
    apply: callbackWrapper(
      (target, thisArg, argumentsList) => {
        var _a2;
        const [property, value, priority] = argumentsList;
        if (ignoreCSSAttributes.has(property)) {
          return setProperty.apply(thisArg, [property, value, priority]);
        }
        const { id, styleId } = getIdAndStyleId(
          (_a2 = thisArg.parentRule) == null ? void 0 : _a2.parentStyleSheet,
          mirror2,
          stylesheetManager.styleMirror
        );
        if (id && id !== -1 || styleId && styleId !== -1) {
          styleDeclarationCb({
            id,
            styleId,
            set: {
              property,
              value,
              priority
            },
            // eslint-disable-next-line @typescript-eslint/no-non-null-assertion
            index: getNestedCSSRulePositions(thisArg.parentRule)
          });
        }
        return target.apply(thisArg, argumentsList);
      }
    )
  });
  const removeProperty = win.CSSStyleDeclaration.prototype.removeProperty;
  win.CSSStyleDeclaration.prototype.removeProperty = new Proxy(removeProperty, {
    apply: callbackWrapper(
      (target, thisArg, argumentsList) => {
        var _a2;
        const [property] = argumentsList;
        if (ignoreCSSAttributes.has(property)) {
          return removeProperty.apply(thisArg, [property]);
        }
        const { id, styleId } = getIdAndStyleId(
          (_a2 = thisArg.parentRule) == null ? void 0 : _a2.parentStyleSheet,
          mirror2,
          stylesheetManager.styleMirror
        );
        if (id && id !== -1 || styleId && styleId !== -1) {
          styleDeclarationCb({
            id,
            styleId,
            remove: {
              property
            },
            // eslint-disable-next-line @typescript-eslint/no-non-null-assertion
            index: getNestedCSSRulePositions(thisArg.parentRule)
          });
        }
        return target.apply(thisArg, argumentsList);
      }
    )
  });
  return callbackWrapper(() => {
    win.CSSStyleDeclaration.prototype.setProperty = setProperty;
    win.CSSStyleDeclaration.prototype.removeProperty = removeProperty;
  });
}
function initMediaInteractionObserver({
  mediaInteractionCb,
  blockClass,
  blockSelector,
  mirror: mirror2,
  sampling,
  doc
}) {
  const handler = callbackWrapper(
    (type) => throttle(
      callbackWrapper((event) => {
        const target = getEventTarget(event);
        if (!target || isBlocked(target, blockClass, blockSelector, true)) {
          return;
        }
        const { currentTime, volume, muted, playbackRate, loop } = target;
        mediaInteractionCb({
          type,
          id: mirror2.getId(target),
          currentTime,
          volume,
          muted,
          playbackRate,
          loop
        });
      }),
      sampling.media || 500
    )
  );
  const handlers = [
    on("play", handler(MediaInteractions.Play), doc),
    on("pause", handler(MediaInteractions.Pause), doc),
    on("seeked", handler(MediaInteractions.Seeked), doc),
    on("volumechange", handler(MediaInteractions.VolumeChange), doc),
    on("ratechange", handler(MediaInteractions.RateChange), doc)
  ];
  return callbackWrapper(() => {
    handlers.forEach((h2) => h2());
  });
}
function initFontObserver({ fontCb, doc }) {
  const win = doc.defaultView;
  if (!win) {
    return () => {
    };
  }
  const handlers = [];
  const fontMap = /* @__PURE__ */ new WeakMap();
  const originalFontFace = win.FontFace;
  win.FontFace = function FontFace(family, source, descriptors) {
    const fontFace = new originalFontFace(family, source, descriptors);
    fontMap.set(fontFace, {
      family,
      buffer: typeof source !== "string",
      descriptors,
      fontSource: typeof source === "string" ? source : JSON.stringify(Array.from(new Uint8Array(source)))
    });
    return fontFace;
  };
  const restoreHandler = patch(
    doc.fonts,
    "add",
    function(original) {
      return function(fontFace) {
        setTimeout(
          callbackWrapper(() => {
            const p2 = fontMap.get(fontFace);
            if (p2) {
              fontCb(p2);
              fontMap.delete(fontFace);
            }
          }),
          0
        );
        return original.apply(this, [fontFace]);
      };
    }
  );
  handlers.push(() => {
    win.FontFace = originalFontFace;
  });
  handlers.push(restoreHandler);
  return callbackWrapper(() => {
    handlers.forEach((h2) => h2());
  });
}
function initSelectionObserver(param) {
  const { doc, mirror: mirror2, blockClass, blockSelector, selectionCb } = param;
  let collapsed = true;
  const updateSelection = callbackWrapper(() => {
    const selection = doc.getSelection();
    if (!selection || collapsed && (selection == null ? void 0 : selection.isCollapsed)) return;
    collapsed = selection.isCollapsed || false;
    const ranges = [];
    const count = selection.rangeCount || 0;
    for (let i3 = 0; i3 < count; i3++) {
      const range = selection.getRangeAt(i3);
      const { startContainer, startOffset, endContainer, endOffset } = range;
      const blocked = isBlocked(startContainer, blockClass, blockSelector, true) || isBlocked(endContainer, blockClass, blockSelector, true);
      if (blocked) continue;
      ranges.push({
        start: mirror2.getId(startContainer),
        startOffset,
        end: mirror2.getId(endContainer),
        endOffset
      });
    }
    selectionCb({ ranges });
  });
  updateSelection();
  return on("selectionchange", updateSelection);
}
function initCustomElementObserver({
  doc,
  customElementCb
}) {
  const win = doc.defaultView;
  if (!win || !win.customElements) return () => {
  };
  const restoreHandler = patch(
    win.customElements,
    "define",
    function(original) {
      return function(name, constructor, options) {
        try {
          customElementCb({
            define: {
              name
            }
          });
        } catch (e2) {
          console.warn(`Custom element callback failed for ${name}`);
        }
        return original.apply(this, [name, constructor, options]);
      };
    }
  );
  return restoreHandler;
}
function mergeHooks(o2, hooks) {
  const {
    mutationCb,
    mousemoveCb,
    mouseInteractionCb,
    scrollCb,
    viewportResizeCb,
    inputCb,
    mediaInteractionCb,
    styleSheetRuleCb,
    styleDeclarationCb,
    canvasMutationCb,
    fontCb,
    selectionCb,
    customElementCb
  } = o2;
  o2.mutationCb = (...p2) => {
    if (hooks.mutation) {
      hooks.mutation(...p2);
    }
    mutationCb(...p2);
  };
  o2.mousemoveCb = (...p2) => {
    if (hooks.mousemove) {
      hooks.mousemove(...p2);
    }
    mousemoveCb(...p2);
  };
  o2.mouseInteractionCb = (...p2) => {
    if (hooks.mouseInteraction) {
      hooks.mouseInteraction(...p2);
    }
    mouseInteractionCb(...p2);
  };
  o2.scrollCb = (...p2) => {
    if (hooks.scroll) {
      hooks.scroll(...p2);
    }
    scrollCb(...p2);
  };
  o2.viewportResizeCb = (...p2) => {
    if (hooks.viewportResize) {
      hooks.viewportResize(...p2);
    }
    viewportResizeCb(...p2);
  };
  o2.inputCb = (...p2) => {
    if (hooks.input) {
      hooks.input(...p2);
    }
    inputCb(...p2);
  };
  o2.mediaInteractionCb = (...p2) => {
    if (hooks.mediaInteaction) {
      hooks.mediaInteaction(...p2);
    }
    mediaInteractionCb(...p2);
  };
  o2.styleSheetRuleCb = (...p2) => {
    if (hooks.styleSheetRule) {
      hooks.styleSheetRule(...p2);
    }
    styleSheetRuleCb(...p2);
  };
  o2.styleDeclarationCb = (...p2) => {
    if (hooks.styleDeclaration) {
      hooks.styleDeclaration(...p2);
    }
    styleDeclarationCb(...p2);
  };
  o2.canvasMutationCb = (...p2) => {
    if (hooks.canvasMutation) {
      hooks.canvasMutation(...p2);
    }
    canvasMutationCb(...p2);
  };
  o2.fontCb = (...p2) => {
    if (hooks.font) {
      hooks.font(...p2);
    }
    fontCb(...p2);
  };
  o2.selectionCb = (...p2) => {
    if (hooks.selection) {
      hooks.selection(...p2);
    }
    selectionCb(...p2);
  };
  o2.customElementCb = (...c2) => {
    if (hooks.customElement) {
      hooks.customElement(...c2);
    }
    customElementCb(...c2);
  };
}
function initObservers(o2, hooks = {}) {
  const currentWindow = o2.doc.defaultView;
  if (!currentWindow) {
    return () => {
    };
  }
  mergeHooks(o2, hooks);
  let mutationObserver;
  let cleanupMutationIframe = () => {
  };
  if (o2.recordDOM) {
    [mutationObserver, cleanupMutationIframe] = initMutationObserver(o2, o2.doc);
  }
  const mousemoveHandler = initMoveObserver(o2);
  const mouseInteractionHandler = initMouseInteractionObserver(o2);
  const scrollHandler = initScrollObserver(o2);
  const viewportResizeHandler = initViewportResizeObserver(o2, {
    win: currentWindow
  });
  const inputHandler = initInputObserver(o2);
  const mediaInteractionHandler = initMediaInteractionObserver(o2);
  let styleSheetObserver = () => {
  };
  let adoptedStyleSheetObserver = () => {
  };
  let styleDeclarationObserver = () => {
  };
  let fontObserver = () => {
  };
  if (o2.recordDOM) {
    styleSheetObserver = initStyleSheetObserver(o2, { win: currentWindow });
    adoptedStyleSheetObserver = initAdoptedStyleSheetObserver(o2, o2.doc);
    styleDeclarationObserver = initStyleDeclarationObserver(o2, {
      win: currentWindow
    });
    if (o2.collectFonts) {
      fontObserver = initFontObserver(o2);
    }
  }
  const selectionObserver = initSelectionObserver(o2);
  const customElementObserver = initCustomElementObserver(o2);
  const pluginHandlers = [];
  for (const plugin of o2.plugins) {
    pluginHandlers.push(
      plugin.observer(plugin.callback, currentWindow, plugin.options)
    );
  }
  return callbackWrapper(() => {
    mutationBuffers.forEach((b2) => b2.reset());
    mutationObserver == null ? void 0 : mutationObserver.disconnect();
    cleanupMutationIframe();
    mousemoveHandler();
    mouseInteractionHandler();
    scrollHandler();
    viewportResizeHandler();
    inputHandler();
    mediaInteractionHandler();
    styleSheetObserver();
    adoptedStyleSheetObserver();
    styleDeclarationObserver();
    fontObserver();
    selectionObserver();
    customElementObserver();
    pluginHandlers.forEach((h2) => h2());
  });
}
function hasNestedCSSRule(prop) {
  return typeof window[prop] !== "undefined";
}
function canMonkeyPatchNestedCSSRule(prop) {
  return Boolean(
    typeof window[prop] !== "undefined" && // Note: Generally, this check _shouldn't_ be necessary
    // However, in some scenarios (e.g. jsdom) this can sometimes fail, so we check for it here
    window[prop].prototype && "insertRule" in window[prop].prototype && "deleteRule" in window[prop].prototype
  );
}
var CrossOriginIframeMirror = class {
  constructor(generateIdFn) {
    __publicField2(this, "iframeIdToRemoteIdMap", /* @__PURE__ */ new WeakMap());
    __publicField2(this, "iframeRemoteIdToIdMap", /* @__PURE__ */ new WeakMap());
    this.generateIdFn = generateIdFn;
  }
  getId(iframe, remoteId, idToRemoteMap, remoteToIdMap) {
    const idToRemoteIdMap = idToRemoteMap || this.getIdToRemoteIdMap(iframe);
    const remoteIdToIdMap = remoteToIdMap || this.getRemoteIdToIdMap(iframe);
    let id = idToRemoteIdMap.get(remoteId);
    if (!id) {
      id = this.generateIdFn();
      idToRemoteIdMap.set(remoteId, id);
      remoteIdToIdMap.set(id, remoteId);
    }
    return id;
  }
  getIds(iframe, remoteId) {
    const idToRemoteIdMap = this.getIdToRemoteIdMap(iframe);
    const remoteIdToIdMap = this.getRemoteIdToIdMap(iframe);
    return remoteId.map(
      (id) => this.getId(iframe, id, idToRemoteIdMap, remoteIdToIdMap)
    );
  }
  getRemoteId(iframe, id, map) {
    const remoteIdToIdMap = map || this.getRemoteIdToIdMap(iframe);
    if (typeof id !== "number") return id;
    const remoteId = remoteIdToIdMap.get(id);
    if (!remoteId) return -1;
    return remoteId;
  }
  getRemoteIds(iframe, ids) {
    const remoteIdToIdMap = this.getRemoteIdToIdMap(iframe);
    return ids.map((id) => this.getRemoteId(iframe, id, remoteIdToIdMap));
  }
  reset(iframe) {
    if (!iframe) {
      this.iframeIdToRemoteIdMap = /* @__PURE__ */ new WeakMap();
      this.iframeRemoteIdToIdMap = /* @__PURE__ */ new WeakMap();
      return;
    }
    this.iframeIdToRemoteIdMap.delete(iframe);
    this.iframeRemoteIdToIdMap.delete(iframe);
  }
  getIdToRemoteIdMap(iframe) {
    let idToRemoteIdMap = this.iframeIdToRemoteIdMap.get(iframe);
    if (!idToRemoteIdMap) {
      idToRemoteIdMap = /* @__PURE__ */ new Map();
      this.iframeIdToRemoteIdMap.set(iframe, idToRemoteIdMap);
    }
    return idToRemoteIdMap;
  }
  getRemoteIdToIdMap(iframe) {
    let remoteIdToIdMap = this.iframeRemoteIdToIdMap.get(iframe);
    if (!remoteIdToIdMap) {
      remoteIdToIdMap = /* @__PURE__ */ new Map();
      this.iframeRemoteIdToIdMap.set(iframe, remoteIdToIdMap);
    }
    return remoteIdToIdMap;
  }
};
var IframeManager = class {
  constructor(options) {
    __publicField2(this, "iframes", /* @__PURE__ */ new WeakMap());
    __publicField2(this, "crossOriginIframeMap", /* @__PURE__ */ new WeakMap());
    __publicField2(this, "crossOriginIframeMirror", new CrossOriginIframeMirror(genId));
    __publicField2(this, "crossOriginIframeStyleMirror");
    __publicField2(this, "crossOriginIframeRootIdMap", /* @__PURE__ */ new WeakMap());
    __publicField2(this, "mirror");
    __publicField2(this, "mutationCb");
    __publicField2(this, "wrappedEmit");
    __publicField2(this, "loadListener");
    __publicField2(this, "stylesheetManager");
    __publicField2(this, "recordCrossOriginIframes");
    this.mutationCb = options.mutationCb;
    this.wrappedEmit = options.wrappedEmit;
    this.stylesheetManager = options.stylesheetManager;
    this.recordCrossOriginIframes = options.recordCrossOriginIframes;
    this.crossOriginIframeStyleMirror = new CrossOriginIframeMirror(
      this.stylesheetManager.styleMirror.generateId.bind(
        this.stylesheetManager.styleMirror
      )
    );
    this.mirror = options.mirror;
    if (this.recordCrossOriginIframes) {
      window.addEventListener("message", this.handleMessage.bind(this));
    }
  }
  addIframe(iframeEl) {
    this.iframes.set(iframeEl, true);
    if (iframeEl.contentWindow)
      this.crossOriginIframeMap.set(iframeEl.contentWindow, iframeEl);
  }
  addLoadListener(cb) {
    this.loadListener = cb;
  }
  attachIframe(iframeEl, childSn) {
    var _a2, _b;
    this.mutationCb({
      adds: [
        {
          parentId: this.mirror.getId(iframeEl),
          nextId: null,
          node: childSn
        }
      ],
      removes: [],
      texts: [],
      attributes: [],
      isAttachIframe: true
    });
    if (this.recordCrossOriginIframes)
      (_a2 = iframeEl.contentWindow) == null ? void 0 : _a2.addEventListener(
        "message",
        this.handleMessage.bind(this)
      );
    (_b = this.loadListener) == null ? void 0 : _b.call(this, iframeEl);
    if (iframeEl.contentDocument && iframeEl.contentDocument.adoptedStyleSheets && iframeEl.contentDocument.adoptedStyleSheets.length > 0)
      this.stylesheetManager.adoptStyleSheets(
        iframeEl.contentDocument.adoptedStyleSheets,
        this.mirror.getId(iframeEl.contentDocument)
      );
  }
  handleMessage(message) {
    const crossOriginMessageEvent = message;
    if (crossOriginMessageEvent.data.type !== "rrweb" || // To filter out the rrweb messages which are forwarded by some sites.
    crossOriginMessageEvent.origin !== crossOriginMessageEvent.data.origin)
      return;
    const iframeSourceWindow = message.source;
    if (!iframeSourceWindow) return;
    const iframeEl = this.crossOriginIframeMap.get(message.source);
    if (!iframeEl) return;
    const transformedEvent = this.transformCrossOriginEvent(
      iframeEl,
      crossOriginMessageEvent.data.event
    );
    if (transformedEvent)
      this.wrappedEmit(
        transformedEvent,
        crossOriginMessageEvent.data.isCheckout
      );
  }
  transformCrossOriginEvent(iframeEl, e2) {
    var _a2;
    switch (e2.type) {
      case EventType.FullSnapshot: {
        this.crossOriginIframeMirror.reset(iframeEl);
        this.crossOriginIframeStyleMirror.reset(iframeEl);
        this.replaceIdOnNode(e2.data.node, iframeEl);
        const rootId = e2.data.node.id;
        this.crossOriginIframeRootIdMap.set(iframeEl, rootId);
        this.patchRootIdOnNode(e2.data.node, rootId);
        return {
          timestamp: e2.timestamp,
          type: EventType.IncrementalSnapshot,
          data: {
            source: IncrementalSource.Mutation,
            adds: [
              {
                parentId: this.mirror.getId(iframeEl),
                nextId: null,
                node: e2.data.node
              }
            ],
            removes: [],
            texts: [],
            attributes: [],
            isAttachIframe: true
          }
        };
      }
      case EventType.Meta:
      case EventType.Load:
      case EventType.DomContentLoaded: {
        return false;
      }
      case EventType.Plugin: {
        return e2;
      }
      case EventType.Custom: {
        this.replaceIds(
          e2.data.payload,
          iframeEl,
          ["id", "parentId", "previousId", "nextId"]
        );
        return e2;
      }
      case EventType.IncrementalSnapshot: {
        switch (e2.data.source) {
          case IncrementalSource.Mutation: {
            e2.data.adds.forEach((n2) => {
              this.replaceIds(n2, iframeEl, [
                "parentId",
                "nextId",
                "previousId"
              ]);
              this.replaceIdOnNode(n2.node, iframeEl);
              const rootId = this.crossOriginIframeRootIdMap.get(iframeEl);
              rootId && this.patchRootIdOnNode(n2.node, rootId);
            });
            e2.data.removes.forEach((n2) => {
              this.replaceIds(n2, iframeEl, ["parentId", "id"]);
            });
            e2.data.attributes.forEach((n2) => {
              this.replaceIds(n2, iframeEl, ["id"]);
            });
            e2.data.texts.forEach((n2) => {
              this.replaceIds(n2, iframeEl, ["id"]);
            });
            return e2;
          }
          case IncrementalSource.Drag:
          case IncrementalSource.TouchMove:
          case IncrementalSource.MouseMove: {
            e2.data.positions.forEach((p2) => {
              this.replaceIds(p2, iframeEl, ["id"]);
            });
            return e2;
          }
          case IncrementalSource.ViewportResize: {
            return false;
          }
          case IncrementalSource.MediaInteraction:
          case IncrementalSource.MouseInteraction:
          case IncrementalSource.Scroll:
          case IncrementalSource.CanvasMutation:
          case IncrementalSource.Input: {
            this.replaceIds(e2.data, iframeEl, ["id"]);
            return e2;
          }
          case IncrementalSource.StyleSheetRule:
          case IncrementalSource.StyleDeclaration: {
            this.replaceIds(e2.data, iframeEl, ["id"]);
            this.replaceStyleIds(e2.data, iframeEl, ["styleId"]);
            return e2;
          }
          case IncrementalSource.Font: {
            return e2;
          }
          case IncrementalSource.Selection: {
            e2.data.ranges.forEach((range) => {
              this.replaceIds(range, iframeEl, ["start", "end"]);
            });
            return e2;
          }
          case IncrementalSource.AdoptedStyleSheet: {
            this.replaceIds(e2.data, iframeEl, ["id"]);
            this.replaceStyleIds(e2.data, iframeEl, ["styleIds"]);
            (_a2 = e2.data.styles) == null ? void 0 : _a2.forEach((style) => {
              this.replaceStyleIds(style, iframeEl, ["styleId"]);
            });
            return e2;
          }
        }
      }
    }
    return false;
  }
  replace(iframeMirror, obj, iframeEl, keys) {
    for (const key of keys) {
      if (!Array.isArray(obj[key]) && typeof obj[key] !== "number") continue;
      if (Array.isArray(obj[key])) {
        obj[key] = iframeMirror.getIds(
          iframeEl,
          obj[key]
        );
      } else {
        obj[key] = iframeMirror.getId(iframeEl, obj[key]);
      }
    }
    return obj;
  }
  replaceIds(obj, iframeEl, keys) {
    return this.replace(this.crossOriginIframeMirror, obj, iframeEl, keys);
  }
  replaceStyleIds(obj, iframeEl, keys) {
    return this.replace(this.crossOriginIframeStyleMirror, obj, iframeEl, keys);
  }
  replaceIdOnNode(node, iframeEl) {
    this.replaceIds(node, iframeEl, ["id", "rootId"]);
    if ("childNodes" in node) {
      node.childNodes.forEach((child) => {
        this.replaceIdOnNode(child, iframeEl);
      });
    }
  }
  patchRootIdOnNode(node, rootId) {
    if (node.type !== NodeType.Document && !node.rootId) node.rootId = rootId;
    if ("childNodes" in node) {
      node.childNodes.forEach((child) => {
        this.patchRootIdOnNode(child, rootId);
      });
    }
  }
};
var ShadowDomManager = class {
  constructor(options) {
    __publicField2(this, "shadowDoms", /* @__PURE__ */ new WeakSet());
    __publicField2(this, "mutationCb");
    __publicField2(this, "scrollCb");
    __publicField2(this, "bypassOptions");
    __publicField2(this, "mirror");
    __publicField2(this, "restoreHandlers", []);
    this.mutationCb = options.mutationCb;
    this.scrollCb = options.scrollCb;
    this.bypassOptions = options.bypassOptions;
    this.mirror = options.mirror;
    this.init();
  }
  init() {
    this.reset();
    this.patchAttachShadow(Element, document);
  }
  addShadowRoot(shadowRoot2, doc) {
    if (!isNativeShadowDom(shadowRoot2)) return;
    if (this.shadowDoms.has(shadowRoot2)) return;
    this.shadowDoms.add(shadowRoot2);
    const [observer] = initMutationObserver(
      {
        ...this.bypassOptions,
        doc,
        mutationCb: this.mutationCb,
        mirror: this.mirror,
        shadowDomManager: this
      },
      shadowRoot2
    );
    this.restoreHandlers.push(() => observer.disconnect());
    this.restoreHandlers.push(
      initScrollObserver({
        ...this.bypassOptions,
        scrollCb: this.scrollCb,
        // https://gist.github.com/praveenpuglia/0832da687ed5a5d7a0907046c9ef1813
        // scroll is not allowed to pass the boundary, so we need to listen the shadow document
        doc: shadowRoot2,
        mirror: this.mirror
      })
    );
    setTimeout(() => {
      if (shadowRoot2.adoptedStyleSheets && shadowRoot2.adoptedStyleSheets.length > 0)
        this.bypassOptions.stylesheetManager.adoptStyleSheets(
          shadowRoot2.adoptedStyleSheets,
          this.mirror.getId(index.host(shadowRoot2))
        );
      this.restoreHandlers.push(
        initAdoptedStyleSheetObserver(
          {
            mirror: this.mirror,
            stylesheetManager: this.bypassOptions.stylesheetManager
          },
          shadowRoot2
        )
      );
    }, 0);
  }
  /**
   * Monkey patch 'attachShadow' of an IFrameElement to observe newly added shadow doms.
   */
  observeAttachShadow(iframeElement) {
    if (!iframeElement.contentWindow || !iframeElement.contentDocument) return;
    this.patchAttachShadow(
      iframeElement.contentWindow.Element,
      iframeElement.contentDocument
    );
  }
  /**
   * Patch 'attachShadow' to observe newly added shadow doms.
   */
  patchAttachShadow(element, doc) {
    const manager = this;
    this.restoreHandlers.push(
      patch(
        element.prototype,
        "attachShadow",
        function(original) {
          return function(option) {
            const sRoot = original.call(this, option);
            const shadowRootEl = index.shadowRoot(this);
            if (shadowRootEl && inDom(this))
              manager.addShadowRoot(shadowRootEl, doc);
            return sRoot;
          };
        }
      )
    );
  }
  reset() {
    this.restoreHandlers.forEach((handler) => {
      try {
        handler();
      } catch (e2) {
      }
    });
    this.restoreHandlers = [];
    this.shadowDoms = /* @__PURE__ */ new WeakSet();
  }
};
var chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
var lookup = typeof Uint8Array === "undefined" ? [] : new Uint8Array(256);
for (i2 = 0; i2 < chars.length; i2++) {
  lookup[chars.charCodeAt(i2)] = i2;
}
var i2;
var encode = function(arraybuffer) {
  var bytes = new Uint8Array(arraybuffer), i3, len = bytes.length, base64 = "";
  for (i3 = 0; i3 < len; i3 += 3) {
    base64 += chars[bytes[i3] >> 2];
    base64 += chars[(bytes[i3] & 3) << 4 | bytes[i3 + 1] >> 4];
    base64 += chars[(bytes[i3 + 1] & 15) << 2 | bytes[i3 + 2] >> 6];
    base64 += chars[bytes[i3 + 2] & 63];
  }
  if (len % 3 === 2) {
    base64 = base64.substring(0, base64.length - 1) + "=";
  } else if (len % 3 === 1) {
    base64 = base64.substring(0, base64.length - 2) + "==";
  }
  return base64;
};
var canvasVarMap = /* @__PURE__ */ new Map();
function variableListFor(ctx, ctor) {
  let contextMap = canvasVarMap.get(ctx);
  if (!contextMap) {
    contextMap = /* @__PURE__ */ new Map();
    canvasVarMap.set(ctx, contextMap);
  }
  if (!contextMap.has(ctor)) {
    contextMap.set(ctor, []);
  }
  return contextMap.get(ctor);
}
var saveWebGLVar = (value, win, ctx) => {
  if (!value || !(isInstanceOfWebGLObject(value, win) || typeof value === "object"))
    return;
  const name = value.constructor.name;
  const list = variableListFor(ctx, name);
  let index2 = list.indexOf(value);
  if (index2 === -1) {
    index2 = list.length;
    list.push(value);
  }
  return index2;
};
function serializeArg(value, win, ctx) {
  if (value instanceof Array) {
    return value.map((arg) => serializeArg(arg, win, ctx));
  } else if (value === null) {
    return value;
  } else if (value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array || value instanceof Uint32Array || value instanceof Uint8Array || value instanceof Uint16Array || value instanceof Int16Array || value instanceof Int8Array || value instanceof Uint8ClampedArray) {
    const name = value.constructor.name;
    return {
      rr_type: name,
      args: [Object.values(value)]
    };
  } else if (
    // SharedArrayBuffer disabled on most browsers due to spectre.
    // More info: https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/SharedArrayBuffer/SharedArrayBuffer
    // value instanceof SharedArrayBuffer ||
    value instanceof ArrayBuffer
  ) {
    const name = value.constructor.name;
    const base64 = encode(value);
    return {
      rr_type: name,
      base64
    };
  } else if (value instanceof DataView) {
    const name = value.constructor.name;
    return {
      rr_type: name,
      args: [
        serializeArg(value.buffer, win, ctx),
        value.byteOffset,
        value.byteLength
      ]
    };
  } else if (value instanceof HTMLImageElement) {
    const name = value.constructor.name;
    const { src } = value;
    return {
      rr_type: name,
      src
    };
  } else if (value instanceof HTMLCanvasElement) {
    const name = "HTMLImageElement";
    const src = value.toDataURL();
    return {
      rr_type: name,
      src
    };
  } else if (value instanceof ImageData) {
    const name = value.constructor.name;
    return {
      rr_type: name,
      args: [serializeArg(value.data, win, ctx), value.width, value.height]
    };
  } else if (isInstanceOfWebGLObject(value, win) || typeof value === "object") {
    const name = value.constructor.name;
    const index2 = saveWebGLVar(value, win, ctx);
    return {
      rr_type: name,
      index: index2
    };
  }
  return value;
}
var serializeArgs = (args, win, ctx) => {
  return args.map((arg) => serializeArg(arg, win, ctx));
};
var isInstanceOfWebGLObject = (value, win) => {
  const webGLConstructorNames = [
    "WebGLActiveInfo",
    "WebGLBuffer",
    "WebGLFramebuffer",
    "WebGLProgram",
    "WebGLRenderbuffer",
    "WebGLShader",
    "WebGLShaderPrecisionFormat",
    "WebGLTexture",
    "WebGLUniformLocation",
    "WebGLVertexArrayObject",
    // In old Chrome versions, value won't be an instanceof WebGLVertexArrayObject.
    "WebGLVertexArrayObjectOES"
  ];
  const supportedWebGLConstructorNames = webGLConstructorNames.filter(
    (name) => typeof win[name] === "function"
  );
  return Boolean(
    supportedWebGLConstructorNames.find(
      (name) => value instanceof win[name]
    )
  );
};
function initCanvas2DMutationObserver(cb, win, blockClass, blockSelector) {
  const handlers = [];
  const props2D = Object.getOwnPropertyNames(
    win.CanvasRenderingContext2D.prototype
  );
  for (const prop of props2D) {
    try {
      if (typeof win.CanvasRenderingContext2D.prototype[prop] !== "function") {
        continue;
      }
      const restoreHandler = patch(
        win.CanvasRenderingContext2D.prototype,
        prop,
        function(original) {
          return function(...args) {
            if (!isBlocked(this.canvas, blockClass, blockSelector, true)) {
              setTimeout(() => {
                const recordArgs = serializeArgs(args, win, this);
                cb(this.canvas, {
                  type: CanvasContext["2D"],
                  property: prop,
                  args: recordArgs
                });
              }, 0);
            }
            return original.apply(this, args);
          };
        }
      );
      handlers.push(restoreHandler);
    } catch {
      const hookHandler = hookSetter(
        win.CanvasRenderingContext2D.prototype,
        prop,
        {
          set(v2) {
            cb(this.canvas, {
              type: CanvasContext["2D"],
              property: prop,
              args: [v2],
              setter: true
            });
          }
        }
      );
      handlers.push(hookHandler);
    }
  }
  return () => {
    handlers.forEach((h2) => h2());
  };
}
function getNormalizedContextName(contextType) {
  return contextType === "experimental-webgl" ? "webgl" : contextType;
}
function initCanvasContextObserver(win, blockClass, blockSelector, setPreserveDrawingBufferToTrue) {
  const handlers = [];
  try {
    const restoreHandler = patch(
      win.HTMLCanvasElement.prototype,
      "getContext",
      function(original) {
        return function(contextType, ...args) {
          if (!isBlocked(this, blockClass, blockSelector, true)) {
            const ctxName = getNormalizedContextName(contextType);
            if (!("__context" in this)) this.__context = ctxName;
            if (setPreserveDrawingBufferToTrue && ["webgl", "webgl2"].includes(ctxName)) {
              if (args[0] && typeof args[0] === "object") {
                const contextAttributes = args[0];
                if (!contextAttributes.preserveDrawingBuffer) {
                  contextAttributes.preserveDrawingBuffer = true;
                }
              } else {
                args.splice(0, 1, {
                  preserveDrawingBuffer: true
                });
              }
            }
          }
          return original.apply(this, [contextType, ...args]);
        };
      }
    );
    handlers.push(restoreHandler);
  } catch {
    console.error("failed to patch HTMLCanvasElement.prototype.getContext");
  }
  return () => {
    handlers.forEach((h2) => h2());
  };
}
function patchGLPrototype(prototype, type, cb, blockClass, blockSelector, win) {
  const handlers = [];
  const props = Object.getOwnPropertyNames(prototype);
  for (const prop of props) {
    if (
      //prop.startsWith('get') ||  // e.g. getProgramParameter, but too risky
      [
        "isContextLost",
        "canvas",
        "drawingBufferWidth",
        "drawingBufferHeight"
      ].includes(prop)
    ) {
      continue;
    }
    try {
      if (typeof prototype[prop] !== "function") {
        continue;
      }
      const restoreHandler = patch(
        prototype,
        prop,
        function(original) {
          return function(...args) {
            const result = original.apply(this, args);
            saveWebGLVar(result, win, this);
            if ("tagName" in this.canvas && !isBlocked(this.canvas, blockClass, blockSelector, true)) {
              const recordArgs = serializeArgs(args, win, this);
              const mutation = {
                type,
                property: prop,
                args: recordArgs
              };
              cb(this.canvas, mutation);
            }
            return result;
          };
        }
      );
      handlers.push(restoreHandler);
    } catch {
      const hookHandler = hookSetter(prototype, prop, {
        set(v2) {
          cb(this.canvas, {
            type,
            property: prop,
            args: [v2],
            setter: true
          });
        }
      });
      handlers.push(hookHandler);
    }
  }
  return handlers;
}
function initCanvasWebGLMutationObserver(cb, win, blockClass, blockSelector) {
  const handlers = [];
  if (typeof win.WebGLRenderingContext !== "undefined") {
    handlers.push(
      ...patchGLPrototype(
        win.WebGLRenderingContext.prototype,
        CanvasContext.WebGL,
        cb,
        blockClass,
        blockSelector,
        win
      )
    );
  }
  if (typeof win.WebGL2RenderingContext !== "undefined") {
    handlers.push(
      ...patchGLPrototype(
        win.WebGL2RenderingContext.prototype,
        CanvasContext.WebGL2,
        cb,
        blockClass,
        blockSelector,
        win
      )
    );
  }
  return () => {
    handlers.forEach((h2) => h2());
  };
}
var jsContent = '(function() {\n  "use strict";\n  var chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";\n  var lookup = typeof Uint8Array === "undefined" ? [] : new Uint8Array(256);\n  for (var i = 0; i < chars.length; i++) {\n    lookup[chars.charCodeAt(i)] = i;\n  }\n  var encode = function(arraybuffer) {\n    var bytes = new Uint8Array(arraybuffer), i2, len = bytes.length, base64 = "";\n    for (i2 = 0; i2 < len; i2 += 3) {\n      base64 += chars[bytes[i2] >> 2];\n      base64 += chars[(bytes[i2] & 3) << 4 | bytes[i2 + 1] >> 4];\n      base64 += chars[(bytes[i2 + 1] & 15) << 2 | bytes[i2 + 2] >> 6];\n      base64 += chars[bytes[i2 + 2] & 63];\n    }\n    if (len % 3 === 2) {\n      base64 = base64.substring(0, base64.length - 1) + "=";\n    } else if (len % 3 === 1) {\n      base64 = base64.substring(0, base64.length - 2) + "==";\n    }\n    return base64;\n  };\n  const lastBlobMap = /* @__PURE__ */ new Map();\n  const transparentBlobMap = /* @__PURE__ */ new Map();\n  async function getTransparentBlobFor(width, height, dataURLOptions) {\n    const id = `${width}-${height}`;\n    if ("OffscreenCanvas" in globalThis) {\n      if (transparentBlobMap.has(id)) return transparentBlobMap.get(id);\n      const offscreen = new OffscreenCanvas(width, height);\n      offscreen.getContext("2d");\n      const blob = await offscreen.convertToBlob(dataURLOptions);\n      const arrayBuffer = await blob.arrayBuffer();\n      const base64 = encode(arrayBuffer);\n      transparentBlobMap.set(id, base64);\n      return base64;\n    } else {\n      return "";\n    }\n  }\n  const worker = self;\n  worker.onmessage = async function(e) {\n    if ("OffscreenCanvas" in globalThis) {\n      const { id, bitmap, width, height, dataURLOptions } = e.data;\n      const transparentBase64 = getTransparentBlobFor(\n        width,\n        height,\n        dataURLOptions\n      );\n      const offscreen = new OffscreenCanvas(width, height);\n      const ctx = offscreen.getContext("2d");\n      ctx.drawImage(bitmap, 0, 0);\n      bitmap.close();\n      const blob = await offscreen.convertToBlob(dataURLOptions);\n      const type = blob.type;\n      const arrayBuffer = await blob.arrayBuffer();\n      const base64 = encode(arrayBuffer);\n      if (!lastBlobMap.has(id) && await transparentBase64 === base64) {\n        lastBlobMap.set(id, base64);\n        return worker.postMessage({ id });\n      }\n      if (lastBlobMap.get(id) === base64) return worker.postMessage({ id });\n      worker.postMessage({\n        id,\n        type,\n        base64,\n        width,\n        height\n      });\n      lastBlobMap.set(id, base64);\n    } else {\n      return worker.postMessage({ id: e.data.id });\n    }\n  };\n})();\n//# sourceMappingURL=image-bitmap-data-url-worker-IJpC7g_b.js.map\n';
var blob = typeof self !== "undefined" && self.Blob && new Blob([jsContent], { type: "text/javascript;charset=utf-8" });
function WorkerWrapper(options) {
  let objURL;
  try {
    objURL = blob && (self.URL || self.webkitURL).createObjectURL(blob);
    if (!objURL) throw "";
    const worker = new Worker(objURL, {
      name: options == null ? void 0 : options.name
    });
    worker.addEventListener("error", () => {
      (self.URL || self.webkitURL).revokeObjectURL(objURL);
    });
    return worker;
  } catch (e2) {
    return new Worker(
      "data:text/javascript;charset=utf-8," + encodeURIComponent(jsContent),
      {
        name: options == null ? void 0 : options.name
      }
    );
  } finally {
    objURL && (self.URL || self.webkitURL).revokeObjectURL(objURL);
  }
}
var CanvasManager = class {
  constructor(options) {
    __publicField2(this, "pendingCanvasMutations", /* @__PURE__ */ new Map());
    __publicField2(this, "rafStamps", { latestId: 0, invokeId: null });
    __publicField2(this, "mirror");
    __publicField2(this, "mutationCb");
    __publicField2(this, "resetObservers");
    __publicField2(this, "frozen", false);
    __publicField2(this, "locked", false);
    __publicField2(this, "processMutation", (target, mutation) => {
      const newFrame = this.rafStamps.invokeId && this.rafStamps.latestId !== this.rafStamps.invokeId;
      if (newFrame || !this.rafStamps.invokeId)
        this.rafStamps.invokeId = this.rafStamps.latestId;
      if (!this.pendingCanvasMutations.has(target)) {
        this.pendingCanvasMutations.set(target, []);
      }
      this.pendingCanvasMutations.get(target).push(mutation);
    });
    const {
      sampling = "all",
      win,
      blockClass,
      blockSelector,
      recordCanvas,
      dataURLOptions
    } = options;
    this.mutationCb = options.mutationCb;
    this.mirror = options.mirror;
    if (recordCanvas && sampling === "all")
      this.initCanvasMutationObserver(win, blockClass, blockSelector);
    if (recordCanvas && typeof sampling === "number")
      this.initCanvasFPSObserver(sampling, win, blockClass, blockSelector, {
        dataURLOptions
      });
  }
  reset() {
    this.pendingCanvasMutations.clear();
    this.resetObservers && this.resetObservers();
  }
  freeze() {
    this.frozen = true;
  }
  unfreeze() {
    this.frozen = false;
  }
  lock() {
    this.locked = true;
  }
  unlock() {
    this.locked = false;
  }
  initCanvasFPSObserver(fps, win, blockClass, blockSelector, options) {
    const canvasContextReset = initCanvasContextObserver(
      win,
      blockClass,
      blockSelector,
      true
    );
    const snapshotInProgressMap = /* @__PURE__ */ new Map();
    const worker = new WorkerWrapper();
    worker.onmessage = (e2) => {
      const { id } = e2.data;
      snapshotInProgressMap.set(id, false);
      if (!("base64" in e2.data)) return;
      const { base64, type, width, height } = e2.data;
      this.mutationCb({
        id,
        type: CanvasContext["2D"],
        commands: [
          {
            property: "clearRect",
            // wipe canvas
            args: [0, 0, width, height]
          },
          {
            property: "drawImage",
            // draws (semi-transparent) image
            args: [
              {
                rr_type: "ImageBitmap",
                args: [
                  {
                    rr_type: "Blob",
                    data: [{ rr_type: "ArrayBuffer", base64 }],
                    type
                  }
                ]
              },
              0,
              0
            ]
          }
        ]
      });
    };
    const timeBetweenSnapshots = 1e3 / fps;
    let lastSnapshotTime = 0;
    let rafId;
    const getCanvas = () => {
      const matchedCanvas = [];
      win.document.querySelectorAll("canvas").forEach((canvas) => {
        if (!isBlocked(canvas, blockClass, blockSelector, true)) {
          matchedCanvas.push(canvas);
        }
      });
      return matchedCanvas;
    };
    const takeCanvasSnapshots = (timestamp) => {
      if (lastSnapshotTime && timestamp - lastSnapshotTime < timeBetweenSnapshots) {
        rafId = requestAnimationFrame(takeCanvasSnapshots);
        return;
      }
      lastSnapshotTime = timestamp;
      getCanvas().forEach(async (canvas) => {
        var _a2;
        const id = this.mirror.getId(canvas);
        if (snapshotInProgressMap.get(id)) return;
        if (canvas.width === 0 || canvas.height === 0) return;
        snapshotInProgressMap.set(id, true);
        if (["webgl", "webgl2"].includes(canvas.__context)) {
          const context = canvas.getContext(canvas.__context);
          if (((_a2 = context == null ? void 0 : context.getContextAttributes()) == null ? void 0 : _a2.preserveDrawingBuffer) === false) {
            context.clear(context.COLOR_BUFFER_BIT);
          }
        }
        const bitmap = await createImageBitmap(canvas);
        worker.postMessage(
          {
            id,
            bitmap,
            width: canvas.width,
            height: canvas.height,
            dataURLOptions: options.dataURLOptions
          },
          [bitmap]
        );
      });
      rafId = requestAnimationFrame(takeCanvasSnapshots);
    };
    rafId = requestAnimationFrame(takeCanvasSnapshots);
    this.resetObservers = () => {
      canvasContextReset();
      cancelAnimationFrame(rafId);
    };
  }
  initCanvasMutationObserver(win, blockClass, blockSelector) {
    this.startRAFTimestamping();
    this.startPendingCanvasMutationFlusher();
    const canvasContextReset = initCanvasContextObserver(
      win,
      blockClass,
      blockSelector,
      false
    );
    const canvas2DReset = initCanvas2DMutationObserver(
      this.processMutation.bind(this),
      win,
      blockClass,
      blockSelector
    );
    const canvasWebGL1and2Reset = initCanvasWebGLMutationObserver(
      this.processMutation.bind(this),
      win,
      blockClass,
      blockSelector
    );
    this.resetObservers = () => {
      canvasContextReset();
      canvas2DReset();
      canvasWebGL1and2Reset();
    };
  }
  startPendingCanvasMutationFlusher() {
    requestAnimationFrame(() => this.flushPendingCanvasMutations());
  }
  startRAFTimestamping() {
    const setLatestRAFTimestamp = (timestamp) => {
      this.rafStamps.latestId = timestamp;
      requestAnimationFrame(setLatestRAFTimestamp);
    };
    requestAnimationFrame(setLatestRAFTimestamp);
  }
  flushPendingCanvasMutations() {
    this.pendingCanvasMutations.forEach(
      (_values, canvas) => {
        const id = this.mirror.getId(canvas);
        this.flushPendingCanvasMutationFor(canvas, id);
      }
    );
    requestAnimationFrame(() => this.flushPendingCanvasMutations());
  }
  flushPendingCanvasMutationFor(canvas, id) {
    if (this.frozen || this.locked) {
      return;
    }
    const valuesWithType = this.pendingCanvasMutations.get(canvas);
    if (!valuesWithType || id === -1) return;
    const values = valuesWithType.map((value) => {
      const { type: type2, ...rest } = value;
      return rest;
    });
    const { type } = valuesWithType[0];
    this.mutationCb({ id, type, commands: values });
    this.pendingCanvasMutations.delete(canvas);
  }
};
var StylesheetManager = class {
  constructor(options) {
    __publicField2(this, "trackedLinkElements", /* @__PURE__ */ new WeakSet());
    __publicField2(this, "mutationCb");
    __publicField2(this, "adoptedStyleSheetCb");
    __publicField2(this, "styleMirror", new StyleSheetMirror());
    this.mutationCb = options.mutationCb;
    this.adoptedStyleSheetCb = options.adoptedStyleSheetCb;
  }
  attachLinkElement(linkEl, childSn) {
    if ("_cssText" in childSn.attributes)
      this.mutationCb({
        adds: [],
        removes: [],
        texts: [],
        attributes: [
          {
            id: childSn.id,
            attributes: childSn.attributes
          }
        ]
      });
    this.trackLinkElement(linkEl);
  }
  trackLinkElement(linkEl) {
    if (this.trackedLinkElements.has(linkEl)) return;
    this.trackedLinkElements.add(linkEl);
    this.trackStylesheetInLinkElement(linkEl);
  }
  adoptStyleSheets(sheets, hostId) {
    if (sheets.length === 0) return;
    const adoptedStyleSheetData = {
      id: hostId,
      styleIds: []
    };
    const styles = [];
    for (const sheet of sheets) {
      let styleId;
      if (!this.styleMirror.has(sheet)) {
        styleId = this.styleMirror.add(sheet);
        styles.push({
          styleId,
          rules: Array.from(sheet.rules || CSSRule, (r2, index2) => ({
            rule: stringifyRule(r2, sheet.href),
            index: index2
          }))
        });
      } else styleId = this.styleMirror.getId(sheet);
      adoptedStyleSheetData.styleIds.push(styleId);
    }
    if (styles.length > 0) adoptedStyleSheetData.styles = styles;
    this.adoptedStyleSheetCb(adoptedStyleSheetData);
  }
  reset() {
    this.styleMirror.reset();
    this.trackedLinkElements = /* @__PURE__ */ new WeakSet();
  }
  // TODO: take snapshot on stylesheet reload by applying event listener
  trackStylesheetInLinkElement(_linkEl) {
  }
};
var ProcessedNodeManager = class {
  constructor() {
    __publicField2(this, "nodeMap", /* @__PURE__ */ new WeakMap());
    __publicField2(this, "active", false);
  }
  inOtherBuffer(node, thisBuffer) {
    const buffers = this.nodeMap.get(node);
    return buffers && Array.from(buffers).some((buffer) => buffer !== thisBuffer);
  }
  add(node, buffer) {
    if (!this.active) {
      this.active = true;
      requestAnimationFrame(() => {
        this.nodeMap = /* @__PURE__ */ new WeakMap();
        this.active = false;
      });
    }
    this.nodeMap.set(node, (this.nodeMap.get(node) || /* @__PURE__ */ new Set()).add(buffer));
  }
  destroy() {
  }
};
var wrappedEmit;
var takeFullSnapshot;
var canvasManager;
var recording = false;
try {
  if (Array.from([1], (x2) => x2 * 2)[0] !== 2) {
    const cleanFrame = document.createElement("iframe");
    document.body.appendChild(cleanFrame);
    Array.from = ((_a = cleanFrame.contentWindow) == null ? void 0 : _a.Array.from) || Array.from;
    document.body.removeChild(cleanFrame);
  }
} catch (err) {
  console.debug("Unable to override Array.from", err);
}
var mirror = createMirror();
function record2(options = {}) {
  const {
    emit,
    checkoutEveryNms,
    checkoutEveryNth,
    blockClass = "rr-block",
    blockSelector = null,
    ignoreClass = "rr-ignore",
    ignoreSelector = null,
    maskTextClass = "rr-mask",
    maskTextSelector = null,
    inlineStylesheet = true,
    maskAllInputs,
    maskInputOptions: _maskInputOptions,
    slimDOMOptions: _slimDOMOptions,
    maskInputFn,
    maskTextFn,
    hooks,
    packFn,
    sampling = {},
    dataURLOptions = {},
    mousemoveWait,
    recordDOM = true,
    recordCanvas = false,
    recordCrossOriginIframes = false,
    recordAfter = options.recordAfter === "DOMContentLoaded" ? options.recordAfter : "load",
    userTriggeredOnInput = false,
    collectFonts = false,
    inlineImages = false,
    plugins,
    keepIframeSrcFn = () => false,
    ignoreCSSAttributes = /* @__PURE__ */ new Set([]),
    errorHandler: errorHandler2
  } = options;
  registerErrorHandler(errorHandler2);
  const inEmittingFrame = recordCrossOriginIframes ? window.parent === window : true;
  let passEmitsToParent = false;
  if (!inEmittingFrame) {
    try {
      if (window.parent.document) {
        passEmitsToParent = false;
      }
    } catch (e2) {
      passEmitsToParent = true;
    }
  }
  if (inEmittingFrame && !emit) {
    throw new Error("emit function is required");
  }
  if (!inEmittingFrame && !passEmitsToParent) {
    return () => {
    };
  }
  if (mousemoveWait !== void 0 && sampling.mousemove === void 0) {
    sampling.mousemove = mousemoveWait;
  }
  mirror.reset();
  const maskInputOptions = maskAllInputs === true ? {
    color: true,
    date: true,
    "datetime-local": true,
    email: true,
    month: true,
    number: true,
    range: true,
    search: true,
    tel: true,
    text: true,
    time: true,
    url: true,
    week: true,
    textarea: true,
    select: true,
    password: true
  } : _maskInputOptions !== void 0 ? _maskInputOptions : { password: true };
  const slimDOMOptions = slimDOMDefaults(_slimDOMOptions);
  polyfill();
  let lastFullSnapshotEvent;
  let incrementalSnapshotCount = 0;
  const eventProcessor = (e2) => {
    for (const plugin of plugins || []) {
      if (plugin.eventProcessor) {
        e2 = plugin.eventProcessor(e2);
      }
    }
    if (packFn && // Disable packing events which will be emitted to parent frames.
    !passEmitsToParent) {
      e2 = packFn(e2);
    }
    return e2;
  };
  wrappedEmit = (r2, isCheckout) => {
    var _a2;
    const e2 = r2;
    e2.timestamp = nowTimestamp();
    if (((_a2 = mutationBuffers[0]) == null ? void 0 : _a2.isFrozen()) && e2.type !== EventType.FullSnapshot && !(e2.type === EventType.IncrementalSnapshot && e2.data.source === IncrementalSource.Mutation)) {
      mutationBuffers.forEach((buf) => buf.unfreeze());
    }
    if (inEmittingFrame) {
      emit == null ? void 0 : emit(eventProcessor(e2), isCheckout);
    } else if (passEmitsToParent) {
      const message = {
        type: "rrweb",
        event: eventProcessor(e2),
        origin: window.location.origin,
        isCheckout
      };
      window.parent.postMessage(message, "*");
    }
    if (e2.type === EventType.FullSnapshot) {
      lastFullSnapshotEvent = e2;
      incrementalSnapshotCount = 0;
    } else if (e2.type === EventType.IncrementalSnapshot) {
      if (e2.data.source === IncrementalSource.Mutation && e2.data.isAttachIframe) {
        return;
      }
      incrementalSnapshotCount++;
      const exceedCount = checkoutEveryNth && incrementalSnapshotCount >= checkoutEveryNth;
      const exceedTime = checkoutEveryNms && e2.timestamp - lastFullSnapshotEvent.timestamp > checkoutEveryNms;
      if (exceedCount || exceedTime) {
        takeFullSnapshot(true);
      }
    }
  };
  const wrappedMutationEmit = (m2) => {
    wrappedEmit({
      type: EventType.IncrementalSnapshot,
      data: {
        source: IncrementalSource.Mutation,
        ...m2
      }
    });
  };
  const wrappedScrollEmit = (p2) => wrappedEmit({
    type: EventType.IncrementalSnapshot,
    data: {
      source: IncrementalSource.Scroll,
      ...p2
    }
  });
  const wrappedCanvasMutationEmit = (p2) => wrappedEmit({
    type: EventType.IncrementalSnapshot,
    data: {
      source: IncrementalSource.CanvasMutation,
      ...p2
    }
  });
  const wrappedAdoptedStyleSheetEmit = (a2) => wrappedEmit({
    type: EventType.IncrementalSnapshot,
    data: {
      source: IncrementalSource.AdoptedStyleSheet,
      ...a2
    }
  });
  const stylesheetManager = new StylesheetManager({
    mutationCb: wrappedMutationEmit,
    adoptedStyleSheetCb: wrappedAdoptedStyleSheetEmit
  });
  const iframeManager = new IframeManager({
    mirror,
    mutationCb: wrappedMutationEmit,
    stylesheetManager,
    recordCrossOriginIframes,
    wrappedEmit
  });
  for (const plugin of plugins || []) {
    if (plugin.getMirror)
      plugin.getMirror({
        nodeMirror: mirror,
        crossOriginIframeMirror: iframeManager.crossOriginIframeMirror,
        crossOriginIframeStyleMirror: iframeManager.crossOriginIframeStyleMirror
      });
  }
  const processedNodeManager = new ProcessedNodeManager();
  canvasManager = new CanvasManager({
    recordCanvas,
    mutationCb: wrappedCanvasMutationEmit,
    win: window,
    blockClass,
    blockSelector,
    mirror,
    sampling: sampling.canvas,
    dataURLOptions
  });
  const shadowDomManager = new ShadowDomManager({
    mutationCb: wrappedMutationEmit,
    scrollCb: wrappedScrollEmit,
    bypassOptions: {
      blockClass,
      blockSelector,
      maskTextClass,
      maskTextSelector,
      inlineStylesheet,
      maskInputOptions,
      dataURLOptions,
      maskTextFn,
      maskInputFn,
      recordCanvas,
      inlineImages,
      sampling,
      slimDOMOptions,
      iframeManager,
      stylesheetManager,
      canvasManager,
      keepIframeSrcFn,
      processedNodeManager
    },
    mirror
  });
  takeFullSnapshot = (isCheckout = false) => {
    if (!recordDOM) {
      return;
    }
    wrappedEmit(
      {
        type: EventType.Meta,
        data: {
          href: window.location.href,
          width: getWindowWidth(),
          height: getWindowHeight()
        }
      },
      isCheckout
    );
    stylesheetManager.reset();
    shadowDomManager.init();
    mutationBuffers.forEach((buf) => buf.lock());
    const node = snapshot(document, {
      mirror,
      blockClass,
      blockSelector,
      maskTextClass,
      maskTextSelector,
      inlineStylesheet,
      maskAllInputs: maskInputOptions,
      maskTextFn,
      maskInputFn,
      slimDOM: slimDOMOptions,
      dataURLOptions,
      recordCanvas,
      inlineImages,
      onSerialize: (n2) => {
        if (isSerializedIframe(n2, mirror)) {
          iframeManager.addIframe(n2);
        }
        if (isSerializedStylesheet(n2, mirror)) {
          stylesheetManager.trackLinkElement(n2);
        }
        if (hasShadowRoot(n2)) {
          shadowDomManager.addShadowRoot(index.shadowRoot(n2), document);
        }
      },
      onIframeLoad: (iframe, childSn) => {
        iframeManager.attachIframe(iframe, childSn);
        shadowDomManager.observeAttachShadow(iframe);
      },
      onStylesheetLoad: (linkEl, childSn) => {
        stylesheetManager.attachLinkElement(linkEl, childSn);
      },
      keepIframeSrcFn
    });
    if (!node) {
      return console.warn("Failed to snapshot the document");
    }
    wrappedEmit(
      {
        type: EventType.FullSnapshot,
        data: {
          node,
          initialOffset: getWindowScroll(window)
        }
      },
      isCheckout
    );
    mutationBuffers.forEach((buf) => buf.unlock());
    if (document.adoptedStyleSheets && document.adoptedStyleSheets.length > 0)
      stylesheetManager.adoptStyleSheets(
        document.adoptedStyleSheets,
        mirror.getId(document)
      );
  };
  try {
    const handlers = [];
    const observe = (doc) => {
      var _a2;
      return callbackWrapper(initObservers)(
        {
          mutationCb: wrappedMutationEmit,
          mousemoveCb: (positions, source) => wrappedEmit({
            type: EventType.IncrementalSnapshot,
            data: {
              source,
              positions
            }
          }),
          mouseInteractionCb: (d2) => wrappedEmit({
            type: EventType.IncrementalSnapshot,
            data: {
              source: IncrementalSource.MouseInteraction,
              ...d2
            }
          }),
          scrollCb: wrappedScrollEmit,
          viewportResizeCb: (d2) => wrappedEmit({
            type: EventType.IncrementalSnapshot,
            data: {
              source: IncrementalSource.ViewportResize,
              ...d2
            }
          }),
          inputCb: (v2) => wrappedEmit({
            type: EventType.IncrementalSnapshot,
            data: {
              source: IncrementalSource.Input,
              ...v2
            }
          }),
          mediaInteractionCb: (p2) => wrappedEmit({
            type: EventType.IncrementalSnapshot,
            data: {
              source: IncrementalSource.MediaInteraction,
              ...p2
            }
          }),
          styleSheetRuleCb: (r2) => wrappedEmit({
            type: EventType.IncrementalSnapshot,
            data: {
              source: IncrementalSource.StyleSheetRule,
              ...r2
            }
          }),
          styleDeclarationCb: (r2) => wrappedEmit({
            type: EventType.IncrementalSnapshot,
            data: {
              source: IncrementalSource.StyleDeclaration,
              ...r2
            }
          }),
          canvasMutationCb: wrappedCanvasMutationEmit,
          fontCb: (p2) => wrappedEmit({
            type: EventType.IncrementalSnapshot,
            data: {
              source: IncrementalSource.Font,
              ...p2
            }
          }),
          selectionCb: (p2) => {
            wrappedEmit({
              type: EventType.IncrementalSnapshot,
              data: {
                source: IncrementalSource.Selection,
                ...p2
              }
            });
          },
          customElementCb: (c2) => {
            wrappedEmit({
              type: EventType.IncrementalSnapshot,
              data: {
                source: IncrementalSource.CustomElement,
                ...c2
              }
            });
          },
          blockClass,
          ignoreClass,
          ignoreSelector,
          maskTextClass,
          maskTextSelector,
          maskInputOptions,
          inlineStylesheet,
          sampling,
          recordDOM,
          recordCanvas,
          inlineImages,
          userTriggeredOnInput,
          collectFonts,
          doc,
          maskInputFn,
          maskTextFn,
          keepIframeSrcFn,
          blockSelector,
          slimDOMOptions,
          dataURLOptions,
          mirror,
          iframeManager,
          stylesheetManager,
          shadowDomManager,
          processedNodeManager,
          canvasManager,
          ignoreCSSAttributes,
          plugins: ((_a2 = plugins == null ? void 0 : plugins.filter((p2) => p2.observer)) == null ? void 0 : _a2.map((p2) => ({
            observer: p2.observer,
            options: p2.options,
            callback: (payload) => wrappedEmit({
              type: EventType.Plugin,
              data: {
                plugin: p2.name,
                payload
              }
            })
          }))) || []
        },
        hooks
      );
    };
    iframeManager.addLoadListener((iframeEl) => {
      try {
        handlers.push(observe(iframeEl.contentDocument));
      } catch (error) {
        console.warn(error);
      }
    });
    const init2 = () => {
      takeFullSnapshot();
      handlers.push(observe(document));
      recording = true;
    };
    if (["interactive", "complete"].includes(document.readyState)) {
      init2();
    } else {
      handlers.push(
        on("DOMContentLoaded", () => {
          wrappedEmit({
            type: EventType.DomContentLoaded,
            data: {}
          });
          if (recordAfter === "DOMContentLoaded") init2();
        })
      );
      handlers.push(
        on(
          "load",
          () => {
            wrappedEmit({
              type: EventType.Load,
              data: {}
            });
            if (recordAfter === "load") init2();
          },
          window
        )
      );
    }
    return () => {
      handlers.forEach((handler) => {
        try {
          handler();
        } catch (error) {
          const msg = String(error).toLowerCase();
          if (!msg.includes("cross-origin")) {
            console.warn(error);
          }
        }
      });
      processedNodeManager.destroy();
      recording = false;
      unregisterErrorHandler();
    };
  } catch (error) {
    console.warn(error);
  }
}
record2.addCustomEvent = (tag, payload) => {
  if (!recording) {
    throw new Error("please add custom event after start recording");
  }
  wrappedEmit({
    type: EventType.Custom,
    data: {
      tag,
      payload
    }
  });
};
record2.freezePage = () => {
  mutationBuffers.forEach((buf) => buf.freeze());
};
record2.takeFullSnapshot = (isCheckout) => {
  if (!recording) {
    throw new Error("please take full snapshot after start recording");
  }
  takeFullSnapshot(isCheckout);
};
record2.mirror = mirror;

// src/replay.ts
var SEGMENT_MS = 5e3;
var SEGMENT_BYTES = 500 * 1024;
var META = 4;
var ALL_INPUTS = { input: true, textarea: true, select: true, password: true, email: true, tel: true, text: true, number: true, search: true, url: true, date: true, "datetime-local": true, month: true, week: true, time: true, color: true, range: true };
function overLimit(limit, doc) {
  if (!limit || !doc.getElementsByTagName) return 0;
  const n2 = doc.getElementsByTagName("*").length;
  return n2 > limit ? n2 : 0;
}
function stars(s2) {
  return s2.replace(/\S/g, "*");
}
var Recorder = class {
  constructor(c2, o2) {
    this.c = c2;
    this.o = o2;
    this.mode = "off";
    this.chunks_ = [];
    this.pending_ = [];
    this.pendingBytes_ = 0;
    this.fromBuffer_ = false;
    this.stopped_ = false;
  }
  /** start decides the mode for the session (once; reloads agree) and records. */
  start() {
    const s2 = this.c.session;
    let mode = s2.state.replay;
    if (!mode) {
      const r2 = Math.random();
      mode = r2 < this.o.sessionSampleRate ? "session" : Math.random() < this.o.onErrorSampleRate ? "buffer" : "off";
      s2.setReplay(mode);
    }
    this.mode = mode;
    if (mode === "off") return;
    const go = () => this.c.guard(() => {
      if (this.stopped_ || this.oversized_("replay skipped")) return;
      this.watchMutations_();
      this.record_();
    });
    if (document.readyState === "loading") window.addEventListener("load", go, { once: true });
    else go();
  }
  /**
   * oversized_ stops recording, before rrweb serialises anything, when the
   * page has more elements than maxNodes: a snapshot of them would freeze
   * the page for seconds (and be larger than an edge takes). The breadcrumb
   * goes with later errors and, in session mode, is sent on its own: the
   * protocol has no replay status, so it is how the player learns why the
   * session's replay is missing or ends early.
   */
  oversized_(what) {
    const max = this.o.maxNodes;
    const n2 = overLimit(max, document);
    if (!n2) return false;
    const b2 = { category: "replay", level: "warning", message: what + ": " + n2 + " elements exceed replay.maxNodes " + max, data: { reason: "max_nodes", elements: "" + n2, limit: "" + max } };
    this.c.log(b2.message);
    const send = this.mode === "session";
    this.stop();
    this.c.addBreadcrumb(b2);
    if (send) this.c.enqueue("breadcrumb", b2, this.c.cfg.flushInterval);
    return true;
  }
  /** checkout_ takes a fresh full snapshot unless the page has grown too large for one. */
  checkout_() {
    if (this.stopFn_ && !this.oversized_("recording stopped")) record2.takeFullSnapshot(true);
  }
  record_() {
    const o2 = this.o;
    const unmask = o2.unmask.join(",");
    const unmasked = (el2) => !!unmask && !!el2 && typeof el2.closest === "function" && !!el2.closest(unmask);
    const stop = record2({
      emit: (e2, isCheckout) => this.c.guard(() => this.onEvent_(e2, !!isCheckout)),
      maskAllInputs: o2.maskAllInputs,
      maskInputOptions: o2.maskAllInputs ? ALL_INPUTS : { password: true },
      maskTextSelector: o2.maskAllText ? "*" : o2.mask.join(","),
      maskTextFn: (text, el2) => unmasked(el2) ? text : stars(text),
      maskInputFn: (text, el2) => unmasked(el2) ? text : "*".repeat(text.length),
      blockSelector: o2.block.join(","),
      slimDOMOptions: "all",
      inlineStylesheet: true,
      recordCanvas: false,
      collectFonts: false,
      sampling: { mousemove: 50, scroll: 150, media: 800, input: "last" },
      errorHandler: (err) => {
        this.c.log("recorder", err);
        return true;
      }
    });
    this.stopFn_ = stop || void 0;
    this.resetTimers_();
  }
  resetTimers_() {
    this.clearSegTimer_();
    if (this.checkoutTimer_ !== void 0) clearInterval(this.checkoutTimer_);
    if (this.mode === "session" && this.pending_.length) this.armSegTimer_();
    const every = this.mode === "buffer" ? this.o.bufferMs : this.o.checkoutEveryMs;
    this.checkoutTimer_ = setInterval(() => this.c.guard(() => this.checkout_()), every);
  }
  /**
   * watchMutations stops recording when one batch of DOM mutations is huge:
   * serialising it would freeze the page. This observer is created before
   * rrweb's, so the browser delivers to it first and stopping disconnects
   * rrweb's observer before rrweb processes the batch.
   */
  watchMutations_() {
    if (typeof MutationObserver === "undefined") return;
    this.observer_ = new MutationObserver((records) => {
      let n2 = records.length;
      for (let i3 = 0; i3 < records.length && n2 <= this.o.mutationLimit; i3++) n2 += records[i3].addedNodes.length + records[i3].removedNodes.length;
      if (n2 > this.o.mutationLimit) {
        this.c.guard(() => {
          this.c.addBreadcrumb({ category: "replay", level: "warning", message: "recording stopped: " + n2 + " DOM mutations at once exceed the limit of " + this.o.mutationLimit });
          this.stop();
        });
      }
    });
    this.observer_.observe(document, { childList: true, subtree: true, attributes: true, characterData: true });
  }
  onEvent_(e2, isCheckout) {
    if (this.stopped_) return;
    const rec = { ts: e2.timestamp || Date.now(), json: JSON.stringify(e2) };
    if (this.mode === "buffer") {
      if (e2.type === META && (isCheckout || !this.chunks_.length)) this.chunks_.push({ start: rec.ts, events: [] });
      if (!this.chunks_.length) this.chunks_.push({ start: rec.ts, events: [] });
      this.chunks_[this.chunks_.length - 1].events.push(rec);
      this.prune_(rec.ts);
      return;
    }
    this.pending_.push(rec);
    this.pendingBytes_ += rec.json.length;
    if (this.pendingBytes_ >= SEGMENT_BYTES && e2.type !== META) this.cut();
    else if (this.segTimer_ === void 0) this.armSegTimer_();
  }
  armSegTimer_() {
    this.segTimer_ = setTimeout(() => {
      this.segTimer_ = void 0;
      this.c.guard(() => this.cut());
    }, SEGMENT_MS);
  }
  clearSegTimer_() {
    if (this.segTimer_ !== void 0) clearTimeout(this.segTimer_);
    this.segTimer_ = void 0;
  }
  /** prune drops chunks no longer needed to replay the last bufferSeconds. */
  prune_(now) {
    const horizon = now - this.o.bufferMs;
    while (this.chunks_.length > 1 && this.chunks_[1].start <= horizon) this.chunks_.shift();
  }
  live() {
    return this.mode === "session" && !this.stopped_;
  }
  bufferStart() {
    return this.chunks_.length ? this.chunks_[0].start : Date.now();
  }
  onTrigger() {
    if (this.stopped_) return;
    if (this.mode === "session") return this.cut();
    if (this.mode !== "buffer") return;
    const since = this.bufferStart();
    this.mode = "session";
    this.c.session.setReplay("session");
    for (const ch of this.chunks_) for (const r2 of ch.events) this.pending_.push(r2);
    this.chunks_ = [];
    this.pendingBytes_ = this.pending_.reduce((n2, r2) => n2 + r2.json.length, 0);
    this.fromBuffer_ = true;
    for (const b2 of this.c.breadcrumbsSince(since)) this.c.enqueue("breadcrumb", b2, 0);
    this.cut();
    this.resetTimers_();
  }
  onSessionRotate() {
    if (this.stopped_) return;
    this.pending_ = [];
    this.pendingBytes_ = 0;
    this.chunks_ = [];
    const r2 = Math.random();
    const mode = r2 < this.o.sessionSampleRate ? "session" : Math.random() < this.o.onErrorSampleRate ? "buffer" : "off";
    this.c.session.setReplay(mode);
    if (mode === "off") {
      this.stop();
      return;
    }
    this.mode = mode;
    this.resetTimers_();
    this.checkout_();
  }
  /** cut queues what is pending as one or more segments of at most SEGMENT_BYTES. */
  cut() {
    if (this.mode !== "session" || !this.pending_.length) return;
    this.clearSegTimer_();
    const all = this.pending_;
    this.pending_ = [];
    this.pendingBytes_ = 0;
    let i3 = 0;
    while (i3 < all.length) {
      const part = [];
      let bytes = 0;
      while (i3 < all.length && (part.length === 0 || bytes + all[i3].json.length <= SEGMENT_BYTES)) {
        bytes += all[i3].json.length;
        part.push(all[i3++]);
      }
      this.queueSegment_(part);
    }
    this.fromBuffer_ = false;
  }
  queueSegment_(part) {
    const seg = this.c.session.nextSegment();
    const first = part[0].ts;
    const last = part[part.length - 1].ts;
    let head = '{"id":"' + eventId() + '","ts":' + Math.round(first) + ',"kind":"replay","replay":{"segment":' + seg;
    if (this.fromBuffer_) head += ',"from_buffer":true';
    head += ',"end_ts":' + Math.round(last) + ',"events":[';
    this.c.push("replay", head + part.map((r2) => r2.json).join(",") + "]}}", this.fromBuffer_ ? 0 : this.c.cfg.flushInterval);
  }
  stop() {
    if (this.stopped_) return;
    this.stopped_ = true;
    this.clearSegTimer_();
    if (this.checkoutTimer_ !== void 0) clearInterval(this.checkoutTimer_);
    this.observer_?.disconnect();
    try {
      this.stopFn_?.();
    } catch {
    }
    this.chunks_ = [];
  }
};
function replayFactory(c2) {
  if (!c2.cfg.replay) return null;
  const r2 = new Recorder(c2, c2.cfg.replay);
  r2.start();
  return r2;
}

// src/index.ts
var api = createAPI(replayFactory);
var init = api.init.bind(api);
var setUser = api.setUser;
var setTag = api.setTag;
var captureException = api.captureException;
var captureMessage = api.captureMessage;
var flagSession = api.flagSession;
var flush = api.flush;
var close = api.close;
export {
  SDK_VERSION,
  captureException,
  captureMessage,
  close,
  flagSession,
  flush,
  init,
  parseDSN,
  setTag,
  setUser
};
