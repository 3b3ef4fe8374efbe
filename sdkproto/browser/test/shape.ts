import { readFileSync } from 'node:fs';

// shape checks JSON against the Go structs of sdkproto/batch.go, read from
// the Go source itself: a field the Go types do not declare is an error,
// exactly as the edge's strict decoder (DisallowUnknownFields) rejects it.

type GoType = { kind: 'struct'; name: string } | { kind: 'slice' | 'ptr' | 'map'; elem: GoType } | { kind: 'prim'; name: string };

interface Field {
  json: string;
  type: GoType;
}

const src = readFileSync(new URL('../../batch.go', import.meta.url), 'utf8');
const structs: Record<string, Field[]> = {};
for (const m of src.matchAll(/type (\w+) struct \{([\s\S]*?)\n\}/g)) {
  const fields: Field[] = [];
  for (const line of m[2].split('\n')) {
    const f = /^\s*(\w+)\s+(\S+)\s+`json:"([^",]+)/.exec(line);
    if (f) fields.push({ json: f[3], type: parseType(f[2]) });
  }
  structs[m[1]] = fields;
}

function parseType(t: string): GoType {
  if (t.startsWith('[]')) return { kind: 'slice', elem: parseType(t.slice(2)) };
  if (t.startsWith('*')) return parseType(t.slice(1));
  if (t.startsWith('map[string]')) return { kind: 'map', elem: parseType(t.slice(11)) };
  if (/^[A-Z]/.test(t) && t !== 'Kind' && t !== 'Mechanism') return { kind: 'struct', name: t };
  return { kind: 'prim', name: t };
}

function check(v: unknown, t: GoType, path: string, errs: string[]): void {
  if (v === null) return;
  switch (t.kind) {
    case 'slice':
      if (!Array.isArray(v)) errs.push(path + ': want array');
      else v.forEach((x, i) => check(x, t.elem, path + '[' + i + ']', errs));
      return;
    case 'map':
      if (typeof v !== 'object' || Array.isArray(v)) errs.push(path + ': want object');
      else for (const [k, x] of Object.entries(v as object)) check(x, t.elem, path + '.' + k, errs);
      return;
    case 'struct': {
      if (t.name === 'json.RawMessage') return;
      const fields = structs[t.name];
      if (!fields) throw new Error('unknown Go type ' + t.name);
      if (typeof v !== 'object' || Array.isArray(v)) {
        errs.push(path + ': want object');
        return;
      }
      for (const [k, x] of Object.entries(v as object)) {
        const f = fields.find((f) => f.json === k);
        if (!f) errs.push((path ? path + '.' : '') + k + ': unknown field');
        else check(x, f.type, (path ? path + '.' : '') + k, errs);
      }
      return;
    }
    case 'prim':
      switch (t.name) {
        case 'string':
        case 'Kind':
        case 'Mechanism':
          if (typeof v !== 'string') errs.push(path + ': want string');
          return;
        case 'bool':
          if (typeof v !== 'boolean') errs.push(path + ': want boolean');
          return;
        case 'int':
        case 'int64':
          if (!Number.isInteger(v)) errs.push(path + ': want integer, got ' + JSON.stringify(v));
          return;
        case 'float64':
          if (typeof v !== 'number' || !isFinite(v)) errs.push(path + ': want number');
          return;
        case 'json.RawMessage':
          return;
      }
      throw new Error('unhandled Go type ' + t.name);
  }
}

/** shapeErrors lists where a JSON batch departs from sdkproto.Batch. */
export function shapeErrors(batch: unknown): string[] {
  const errs: string[] = [];
  check(batch, { kind: 'struct', name: 'Batch' }, '', errs);
  return errs;
}

/** paths lists the JSON paths a value uses, with array indices as []. */
export function paths(v: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => paths(x, prefix + '[]', out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const p = prefix ? prefix + '.' + k : k;
      out.add(p);
      if (!p.endsWith('replay.events')) paths(x, p, out);
    }
  }
  return out;
}

export const declaredStructs = structs;
