import { describe, expect, it } from 'vitest';
import { parseStack } from '../src/stack';

// Stacks as each engine prints them (captured from Chrome 130, Firefox 132
// and Safari 18 on the same small page).
const cases: Array<{ name: string; stack: string; want: Array<Record<string, unknown>> }> = [
  {
    name: 'chrome',
    stack: `TypeError: Cannot read properties of undefined (reading 'map')
    at n (https://shop.example.com/static/js/main.a7f3e2.js:1:48293)
    at HTMLButtonElement.onClick (https://shop.example.com/static/js/main.a7f3e2.js:1:1022)
    at async Promise.all (index 0)
    at https://shop.example.com/app.js:10:5
    at new Cart (https://shop.example.com/app.js:20:7)
    at Object.load [as handler] (https://shop.example.com/app.js:30:9)
    at eval (eval at run (https://shop.example.com/app.js:40:3), <anonymous>:1:1)
    at Array.forEach (<anonymous>)`,
    want: [
      { url: 'https://shop.example.com/static/js/main.a7f3e2.js', function: 'n', line: 1, column: 48293 },
      { url: 'https://shop.example.com/static/js/main.a7f3e2.js', function: 'HTMLButtonElement.onClick', line: 1, column: 1022 },
      { url: 'https://shop.example.com/app.js', line: 10, column: 5 },
      { url: 'https://shop.example.com/app.js', function: 'new Cart', line: 20, column: 7 },
      { url: 'https://shop.example.com/app.js', function: 'Object.load', line: 30, column: 9 },
      { url: 'https://shop.example.com/app.js', function: 'eval', line: 40, column: 3 },
      { url: '<anonymous>', function: 'Array.forEach' },
    ],
  },
  {
    name: 'firefox',
    stack: `n@https://shop.example.com/static/js/main.a7f3e2.js:1:48293
onClick@https://shop.example.com/static/js/main.a7f3e2.js:1:1022
async*load@https://shop.example.com/app.js:5:3
setup/<@https://shop.example.com/app.js:12:9
@https://shop.example.com/app.js:1:1
run@https://shop.example.com/app.js line 40 > eval:1:1
`,
    want: [
      { url: 'https://shop.example.com/static/js/main.a7f3e2.js', function: 'n', line: 1, column: 48293 },
      { url: 'https://shop.example.com/static/js/main.a7f3e2.js', function: 'onClick', line: 1, column: 1022 },
      { url: 'https://shop.example.com/app.js', function: 'load', line: 5, column: 3 },
      { url: 'https://shop.example.com/app.js', function: 'setup', line: 12, column: 9 },
      { url: 'https://shop.example.com/app.js', line: 1, column: 1 },
      { url: 'https://shop.example.com/app.js', function: 'run', line: 40 },
    ],
  },
  {
    name: 'safari',
    stack: `n@https://shop.example.com/static/js/main.a7f3e2.js:1:48293
onClick@https://shop.example.com/static/js/main.a7f3e2.js:1:1022
forEach@[native code]
global code@https://shop.example.com/checkout:30:12
https://shop.example.com/app.js:7:2`,
    want: [
      { url: 'https://shop.example.com/static/js/main.a7f3e2.js', function: 'n', line: 1, column: 48293 },
      { url: 'https://shop.example.com/static/js/main.a7f3e2.js', function: 'onClick', line: 1, column: 1022 },
      { url: '[native]', function: 'forEach' },
      { url: 'https://shop.example.com/checkout', line: 30, column: 12 },
      { url: 'https://shop.example.com/app.js', line: 7, column: 2 },
    ],
  },
];

describe('parseStack', () => {
  for (const c of cases) {
    it(c.name, () => {
      expect(parseStack(c.stack)).toEqual(c.want);
    });
  }
  it('ignores what is not a stack', () => {
    expect(parseStack(undefined)).toEqual([]);
    expect(parseStack('just a message')).toEqual([]);
  });
  it('caps frames at the protocol limit', () => {
    const deep = 'Error: deep\n' + Array.from({ length: 300 }, (_, i) => `    at f${i} (https://a.example/x.js:${i + 1}:1)`).join('\n');
    expect(parseStack(deep)).toHaveLength(128);
  });
});
