// Bundles the CLI into one ESM file: cold start matters (the bench target is
// vioctl run within 1.3x of `node -e 0`), and a bundle loads ~40% faster than
// the unbundled module graph. The banner gives CommonJS dependencies `require`.
import { build } from 'esbuild';
import { depPatchPlugin } from './dep-patches.mjs';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/vioctl.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  banner: {
    js: "import { createRequire as __vioctlCreateRequire } from 'node:module'; const require = __vioctlCreateRequire(import.meta.url);",
  },
  plugins: [depPatchPlugin()],
  logLevel: 'warning',
});

// The startup snapshot (src/cli/snapshot.ts): a CommonJS bundle, then `node --build-snapshot`.
// bin/vioctl uses it when it is there; a failure here only costs start-up time, so it warns.
// The snapshot keeps the bundle's source text (V8 compiles the functions not yet run from it) and
// every identifier as a string: minified it is 0.55 MB instead of 1.34 MB, and all ASCII, so one
// byte a character instead of two (the comments' '→' and '—' made it a two-byte string). Each MB
// of blob costs every start ~2-3 ms. Stack traces from the snapshot show minified names: the ESM
// bundle (node bin/vioctl.js) runs the same code with the source's names.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, resolve } from 'node:path';

// The `yaml` package stays out of the snapshot: the subset reader (src/scenario/subset.ts) and
// js-yaml read the scenarios (the stories use both, so both are warm in the snapshot), and yaml
// serves only inputs they refuse and their error messages, and the shell's -e. In the snapshot its
// source and loaded modules were ~0.45 MB of the blob, which every start reads and deserializes
// (~2 ms a MB). It goes to dist/vioctl-yaml.cjs instead, which the snapshot requires on first use:
// an import of it is an object whose getters load that file (from the folder of $VIOCTL_BUNDLE,
// which bin/vioctl sets, else from this dist/). The ESM bundle keeps it inside.
const LAZY = ['yaml'];
const yamlChunk = 'dist/vioctl-yaml.cjs';
await build({
  stdin: {
    contents: `module.exports = { ${LAZY.map((p) => `${JSON.stringify(p)}: require(${JSON.stringify(p)})`).join(', ')} };`,
    resolveDir: process.cwd(),
    loader: 'js',
  },
  outfile: yamlChunk,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minifyWhitespace: true,
  charset: 'ascii',
  logLevel: 'error',
});
const lazyPackages = {
  name: 'lazy-packages',
  setup(b) {
    const req = createRequire(import.meta.url);
    b.onResolve({ filter: new RegExp(`^(${LAZY.join('|')})$`) }, (a) => ({
      path: a.path,
      namespace: 'lazy',
    }));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (a) => {
      const names = Object.keys(req(a.path)).filter((k) => k !== 'default');
      return {
        contents: [
          'let m;',
          'const real = () => {',
          '  if (m) return m;',
          "  const { dirname, join, resolve } = require('node:path');",
          "  const { createRequire } = require('node:module'); // not at load: the snapshot may not hold it",
          `  const dist = process.env.VIOCTL_BUNDLE ? dirname(resolve(process.env.VIOCTL_BUNDLE)) : ${JSON.stringify(resolve('dist'))};`,
          `  m = createRequire(join(dist, 'vioctl-snapshot.cjs'))(${JSON.stringify(`./${basename(yamlChunk)}`)})[${JSON.stringify(a.path)}];`,
          '  return m;',
          '};',
          `for (const k of ${JSON.stringify(names)}) Object.defineProperty(exports, k, { enumerable: true, get: () => real()[k] });`,
        ].join('\n'),
        loader: 'js',
        resolveDir: process.cwd(),
      };
    });
  },
};

await build({
  entryPoints: ['src/cli/snapshot.ts'],
  outfile: 'dist/vioctl-snapshot.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  charset: 'ascii',
  plugins: [lazyPackages, depPatchPlugin()],
  logLevel: 'error',
});
const blob = 'dist/vioctl.blob';
// V8 options of the snapshot: a blob loads only under the options it was built with, so
// dist/vioctl.node carries them to bin/vioctl (line 2). The young generation starts at 8 MB a
// semi-space instead of 1 MB: a short run allocates ~2 MB, and its two scavenges, ~1.3 ms after
// the deserialize main (performance.now(), min of 31 interleaved runs), go away; long runs grow
// it to 16 MB as before.
const nodeOptions = ['--min-semi-space-size=8'];
rmSync(blob, { force: true });
const r = spawnSync(
  process.execPath,
  [...nodeOptions, '--snapshot-blob', blob, '--build-snapshot', 'dist/vioctl-snapshot.cjs'],
  {
    encoding: 'utf8',
  },
);
if (r.status === 0) {
  // the launcher runs the node that built the blob: another node version refuses it
  writeFileSync('dist/vioctl.node', `${process.execPath}\n${nodeOptions.join(' ')}\n`);
} else {
  rmSync(blob, { force: true });
  process.stderr.write(
    `build: no startup snapshot (${(r.stderr || '').split('\n')[0]}); bin/vioctl starts from the bundle\n`,
  );
}
