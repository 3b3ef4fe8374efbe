import { describe, expect, it } from 'vitest';
import type { Metric } from 'web-vitals';
import { toVital } from '../src/vitals';

// fakeEl is the part of an Element that selectorOf reads.
function fakeEl(tag: string, id = '', cls = ''): Node {
  return { nodeType: 1, tagName: tag.toUpperCase(), id, className: cls, parentElement: null, getAttribute: () => null } as unknown as Node;
}

function metric(name: Metric['name'], value: number, entries: unknown[]): Metric {
  return { name, value, delta: value, rating: 'good', navigationType: 'navigate', id: 'v6-1', entries } as unknown as Metric;
}

describe('toVital attribution', () => {
  const cases: Array<{ name: string; m: Metric; want: Record<string, string> | undefined }> = [
    {
      name: 'LCP names the last entry element and its resource',
      m: metric('LCP', 1200, [
        { element: fakeEl('h1'), url: '' },
        { element: fakeEl('img', 'hero'), url: 'https://shop.example.com/hero.jpg' },
      ]),
      want: { element: 'img#hero', url: 'https://shop.example.com/hero.jpg' },
    },
    {
      name: 'INP names the first entry with a target and splits its phases',
      m: metric('INP', 180, [
        { name: 'pointerdown', target: null, startTime: 100, duration: 180, processingStart: 130, processingEnd: 200 },
        { name: 'click', target: fakeEl('button', '', 'buy primary'), startTime: 100, duration: 180, processingStart: 140, processingEnd: 250 },
      ]),
      want: { element: 'button.buy.primary', interaction_type: 'pointer', input_delay: '40', processing_duration: '110', presentation_delay: '30' },
    },
    {
      name: 'INP from a key press is a keyboard interaction',
      m: metric('INP', 80, [{ name: 'keydown', target: fakeEl('input', 'q'), startTime: 10, duration: 80, processingStart: 12.25, processingEnd: 50 }]),
      want: { element: 'input#q', interaction_type: 'keyboard', input_delay: '2.3', processing_duration: '37.8', presentation_delay: '40' },
    },
    {
      name: 'CLS names the source of the largest shift',
      m: metric('CLS', 0.3, [
        { value: 0.05, startTime: 900, sources: [{ node: fakeEl('div', 'ad') }] },
        { value: 0.25, startTime: 1500.04, sources: [{ node: { nodeType: 3 } }, { node: fakeEl('section', 'reviews') }] },
      ]),
      want: { element: 'section#reviews', largest_shift_value: '0.25', largest_shift_time: '1500' },
    },
    { name: 'a metric without entries has no attribution', m: metric('CLS', 0, []), want: undefined },
    { name: 'TTFB has no attributed element', m: metric('TTFB', 90, [{}]), want: undefined },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const v = toVital(tc.m, 'https://shop.example.com/');
      expect(v.attribution).toEqual(tc.want);
      expect(v.name).toBe(tc.m.name);
      expect(v.rating).toBe('good');
      expect(v.navigation_type).toBe('navigate');
    });
  }
});
