// Runs the fixture bundle under V8 (same engine and stack format as Chrome)
// and prints the real stacks of the three seeded TypeErrors as JSON.
const fs = require("fs");
const vm = require("vm");
const code = fs.readFileSync(__dirname + "/dist/static/js/main.js", "utf8");
globalThis.window = globalThis;
vm.runInThisContext(code, { filename: "https://shop.example.com/static/js/main.js?v=3" });
const out = {};
for (const kind of ["list", "cart", "reco"]) {
  try {
    window.rearviewFixture(kind);
  } catch (e) {
    out[kind] = { type: e.name, value: e.message, frames: e.stack.split("\n").slice(1).map((l) => l.trim()).filter((l) => l.includes("shop.example.com")) };
  }
}
console.log(JSON.stringify(out, null, 2));
