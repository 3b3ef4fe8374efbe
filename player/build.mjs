// Builds the player into dist/ (committed and embedded by player.go) and,
// with --test, bundles and runs the unit tests under node:test.
//
// The output must be byte-identical for identical sources: CI rebuilds and
// fails on any diff. esbuild is deterministic; file names carry a content
// hash so the Go handler can serve assets as immutable.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const here = import.meta.dirname ?? new URL(".", import.meta.url).pathname;

async function buildPlayer() {
  const dist = join(here, "dist");
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(join(dist, "assets"), { recursive: true });
  const res = await build({
    absWorkingDir: here,
    entryPoints: { app: "src/main.ts" },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2020", "chrome100", "firefox100", "safari15"],
    minify: true,
    legalComments: "eof",
    outdir: "dist/assets",
    entryNames: "[name]-[hash]",
    assetNames: "[name]-[hash]",
    metafile: true,
    logLevel: "warning",
    charset: "utf8",
  });
  const outs = Object.keys(res.metafile.outputs).map((p) => basename(p));
  const js = outs.find((p) => p.startsWith("app-") && p.endsWith(".js"));
  const css = outs.find((p) => p.startsWith("app-") && p.endsWith(".css"));
  if (!js || !css) throw new Error(`build: missing outputs in ${outs.join(", ")}`);
  const html = readFileSync(join(here, "src/index.html"), "utf8").replace("{{JS}}", js).replace("{{CSS}}", css);
  writeFileSync(join(dist, "index.html"), html);
  const sizes = outs.map((o) => `${o} ${(readFileSync(join(dist, "assets", o)).length / 1024).toFixed(1)} KB`);
  console.log(`player: dist/index.html, ${sizes.join(", ")}`);
}

async function runTests() {
  const out = join(here, "node_modules", ".cache", "rv-tests");
  rmSync(out, { recursive: true, force: true });
  const files = readdirSync(join(here, "test")).filter((f) => f.endsWith(".test.ts"));
  await build({
    absWorkingDir: here,
    entryPoints: files.map((f) => join("test", f)),
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outdir: out,
    outExtension: { ".js": ".mjs" },
    logLevel: "warning",
  });
  const r = spawnSync(process.execPath, ["--test", ...files.map((f) => join(out, f.replace(/\.ts$/, ".mjs")))], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}

if (process.argv.includes("--test")) await runTests();
else await buildPlayer();
