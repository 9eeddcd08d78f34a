// Bundle-time patches of dependencies' hot helpers, for the start-up of a short run. The step
// table of a 10-step run is ~90 cli-table3 cells, and a short run is interpreted (no JIT: see
// src/cli/snapshot.ts): there cli-table3 took ~4.5 ms of the run's ~10 ms of JavaScript, most of it
// in three helpers that allocate on every call. Each patch below returns exactly what the original
// returns for every input (test/build/dep-patches.test.ts runs both on random tables and strings);
// it only skips work. Each `find` must occur exactly once in the file of the locked version, or
// the build fails: a dependency update that moves the code shows up here, not as slower starts.
import { readFileSync } from 'node:fs';

/** @type {{ file: RegExp, name: string, find: string, replace: string }[]} */
export const depPatches = [
  {
    // string-width 4: strip-ansi, an emoji regex replace and a code-point loop for every string,
    // and both regexes built anew on each call (after the snapshot's start V8's regexp cache is
    // empty, and the first emoji regex, 10 KB of pattern, costs ~1 ms to compile). Printable ASCII
    // and the few narrow signs vioctl prints (… ✓ ✗ → ← – — § ·) have no escape, no emoji and no
    // wide or zero-width character: such a string is as wide as it is long.
    file: /node_modules[\\/]string-width[\\/]index\.js$/,
    name: 'string-width: printable ASCII and narrow signs are as wide as they are long',
    find: "const stringWidth = string => {\n\tif (typeof string !== 'string' || string.length === 0) {",
    replace:
      "const NARROW = /^[\\x20-\\x7e\\u2026\\u2713\\u2717\\u2192\\u2190\\u2013\\u2014\\u00a7\\u00b7]*$/;\nconst stringWidth = string => {\n\tif (typeof string === 'string' && NARROW.test(string)) {\n\t\treturn string.length;\n\t}\n\tif (typeof string !== 'string' || string.length === 0) {",
  },
  {
    // cli-table3 0.6: a filter closure and a fresh array for each of a cell's ~18 options
    file: /node_modules[\\/]cli-table3[\\/]src[\\/]cell\.js$/,
    name: 'cli-table3 cell: firstDefined without filter',
    find: 'function firstDefined(...args) {\n  return args.filter((v) => v !== undefined && v !== null).shift();\n}',
    replace:
      'function firstDefined(...args) {\n  for (let i = 0; i < args.length; i++) {\n    if (args[i] !== undefined && args[i] !== null) return args[i];\n  }\n  return undefined;\n}',
  },
  {
    // ... and a split, charAt, toUpperCase, substr and join of the same ~18 option names per cell
    file: /node_modules[\\/]cli-table3[\\/]src[\\/]cell\.js$/,
    name: "cli-table3 cell: setOption's camel-case names computed once",
    find: "function setOption(objA, objB, nameB, targetObj) {\n  let nameA = nameB.split('-');\n  if (nameA.length > 1) {\n    nameA[1] = nameA[1].charAt(0).toUpperCase() + nameA[1].substr(1);\n    nameA = nameA.join('');\n    targetObj[nameA]",
    replace:
      "const camelNames = new Map();\nfunction camelName(nameB) {\n  let nameA = camelNames.get(nameB);\n  if (nameA === undefined) {\n    nameA = nameB.split('-');\n    if (nameA.length > 1) {\n      nameA[1] = nameA[1].charAt(0).toUpperCase() + nameA[1].substr(1);\n      nameA = nameA.join('');\n    } else {\n      nameA = null;\n    }\n    camelNames.set(nameB, nameA);\n  }\n  return nameA;\n}\nfunction setOption(objA, objB, nameB, targetObj) {\n  let nameA = camelName(nameB);\n  if (nameA !== null) {\n    targetObj[nameA]",
  },
  {
    // utils.strlen: a fresh regex, a replace, a split and two string-width calls a line. A string
    // without an escape or a newline is one line with nothing to strip.
    file: /node_modules[\\/]cli-table3[\\/]src[\\/]utils\.js$/,
    name: 'cli-table3 utils: strlen of one plain line',
    find: 'function strlen(str) {\n  let code = codeRegex();',
    replace:
      "function strlen(str) {\n  if (typeof str === 'string' && str.indexOf('\\u001b') === -1 && str.indexOf('\\n') === -1) {\n    return stringWidth(str);\n  }\n  let code = codeRegex();",
  },
  {
    // layout-manager: fillInTable asks conflictExists for every column of every row, and each
    // call builds a probe cell and calls cellsConflict on every cell above (~4 000 calls for a
    // 10-step table). The same test inline: a probe of span 1 at (x, y) conflicts with a cell
    // when y is within the cell's rows and x within its columns (cellsConflict stays for others).
    file: /node_modules[\\/]cli-table3[\\/]src[\\/]layout-manager\.js$/,
    name: 'cli-table3 layout: conflictExists without a probe cell',
    find: '    let cell = { x: x, y: y };\n    for (let i = 0; i <= i_max; i++) {\n      let row = rows[i];\n      for (let j = 0; j < row.length; j++) {\n        if (cellsConflict(cell, row[j])) {\n          return true;\n        }\n      }\n    }\n    return false;',
    replace:
      '    for (let i = 0; i <= i_max; i++) {\n      let row = rows[i];\n      for (let j = 0; j < row.length; j++) {\n        let c = row[j];\n        if (y > c.y - 1 + (c.rowSpan || 1) || c.y > y) continue;\n        if (x > c.x - 1 + (c.colSpan || 1) || c.x > x) continue;\n        return true;\n      }\n    }\n    return false;',
  },
];

/** The file's text with every patch for it applied; throws when a patch does not apply exactly once. */
export function applyDepPatches(path, text) {
  let out = text;
  for (const p of depPatches) {
    if (!p.file.test(path)) continue;
    const at = out.indexOf(p.find);
    if (at === -1 || out.indexOf(p.find, at + 1) !== -1) {
      throw new Error(
        `dependency patch "${p.name}" does not apply to ${path} (its code changed?): see scripts/dep-patches.mjs`,
      );
    }
    out = out.slice(0, at) + p.replace + out.slice(at + p.find.length);
  }
  return out;
}

/** The esbuild plugin: patched files load through applyDepPatches. */
export function depPatchPlugin() {
  return {
    name: 'dep-patches',
    setup(b) {
      const files = depPatches.map((p) => p.file);
      const filter = /node_modules[\\/](string-width|cli-table3)[\\/]/;
      b.onLoad({ filter }, (a) => {
        if (!files.some((f) => f.test(a.path))) return undefined;
        return { contents: applyDepPatches(a.path, readFileSync(a.path, 'utf8')), loader: 'js' };
      });
    },
  };
}
