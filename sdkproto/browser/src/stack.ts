import type { Frame } from './protocol';
import { LIMITS, clip } from './protocol';

// Stack traces come in two dialects that matter: V8 (Chrome, Edge, Node:
// "    at fn (url:line:col)") and Gecko/JavaScriptCore (Firefox, Safari:
// "fn@url:line:col"). Both list the innermost call first, as the protocol
// wants. A small parser keeps the errors-only bundle small; tests cover the
// real formats of each engine (test/stack.test.ts).

const V8_EVAL = /\((\S+?):(\d+):(\d+)\)/;
const GECKO_EVAL = /(\S+) line (\d+)(?: > eval line \d+)* > eval/i;
const LOCATION = /^(.*?)(?::(\d+))?(?::(\d+))?$/;

function num(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const n = parseInt(s, 10);
  return n > 0 ? n : undefined;
}

function frame(loc: string, fn: string | undefined): Frame {
  const m = LOCATION.exec(loc) as RegExpExecArray;
  let url = m[1];
  if (url === 'native' || url === '[native code]') url = '[native]';
  const f: Frame = { url: clip(url, LIMITS.url) };
  if (fn && fn !== '?' && fn !== '<anonymous>') f.function = clip(fn, LIMITS.short * 4);
  const line = num(m[2]);
  const column = num(m[3]);
  if (line) f.line = line;
  if (column) f.column = column;
  return f;
}

function parseV8(line: string): Frame | null {
  const t = line.trim();
  if (t.slice(0, 3) !== 'at ') return null;
  const body = t.slice(3);
  let fn: string | undefined;
  let loc = body;
  const m = /^(.*?) \((.*)\)$/.exec(body);
  if (m) {
    fn = m[1];
    loc = m[2];
  }
  if (loc.indexOf('eval at ') === 0) {
    // "at eval (eval at fn (url:1:2), <anonymous>:1:1)": the useful
    // location is the one that called eval.
    const e = V8_EVAL.exec(loc);
    if (e) loc = e[1] + ':' + e[2] + ':' + e[3];
  }
  // "at async Promise.all (index 0)" names no place in any source.
  if (!/:\d+$/.test(loc) && !/^(native|<anonymous>|\[native code\])$/.test(loc)) return null;
  if (fn) fn = fn.replace(/^async /, '').replace(/ \[as [^\]]+\]$/, '');
  return frame(loc, fn);
}

function parseGecko(line: string): Frame | null {
  const t = line.trim();
  const at = t.lastIndexOf('@');
  if (at < 0 && !/:\d+$/.test(t) && t !== '[native code]') return null;
  let fn = at >= 0 ? t.slice(0, at) : '';
  let loc = at >= 0 ? t.slice(at + 1) : t;
  const ev = GECKO_EVAL.exec(loc);
  if (ev) loc = ev[1] + ':' + ev[2];
  // Firefox marks async boundaries ("async*fn") and anonymous inner
  // functions ("outer/<") in the name.
  fn = fn.replace(/^.*\*/, '').replace(/(\/<)+$/, '').replace(/\/<\//g, '/');
  if (fn === 'global code' || fn === 'module code' || fn === 'eval code') fn = '';
  if (!loc) return null;
  return frame(loc, fn || undefined);
}

/**
 * parseStack turns an engine's stack string into frames, innermost first.
 * Lines it does not understand (the "TypeError: …" header, blank lines)
 * are skipped.
 */
export function parseStack(stack: string | undefined): Frame[] {
  if (!stack || typeof stack !== 'string') return [];
  const out: Frame[] = [];
  const lines = stack.split('\n');
  const v8 = lines.some((l) => /^\s+at /.test(l));
  for (const line of lines) {
    if (out.length >= LIMITS.frames) break;
    if (!line.trim() || line.length > 4096) continue;
    const f = v8 ? parseV8(line) : parseGecko(line);
    if (f && f.url) out.push(f);
  }
  return out;
}
