// `vioctl schema` through the real CLI: the committed schema/scenario.schema.json is what the
// command prints now, every fixture validates against it, and it rejects what the loader rejects.
// The validator below covers the keywords the generator uses; no JSON Schema library is installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { loadScenarios } from '../../src/cli/commands/run.js';

type S = Record<string, unknown>;

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/vioctl.js', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function typeOk(t: string, v: unknown): boolean {
  if (t === 'integer') return Number.isInteger(v);
  if (t === 'array') return Array.isArray(v);
  if (t === 'object') return typeof v === 'object' && v !== null && !Array.isArray(v);
  return typeof v === t;
}

/** Errors of v against schema s (JSON pointers into v), for the keywords the generator emits. */
function validate(root: S, s: S, v: unknown, at = ''): string[] {
  if (s.$ref)
    return validate(root, (root.$defs as S)[(s.$ref as string).replace('#/$defs/', '')] as S, v, at);
  const errs: string[] = [];
  if (s.type !== undefined) {
    const ts = Array.isArray(s.type) ? s.type : [s.type];
    if (!ts.some((t) => typeOk(t as string, v))) return [`${at}: not ${ts.join('|')}`];
  }
  if (s.enum && !(s.enum as unknown[]).includes(v)) errs.push(`${at}: not in enum`);
  if (s.pattern && typeof v === 'string' && !new RegExp(s.pattern as string).test(v))
    errs.push(`${at}: pattern`);
  if (s.anyOf && !(s.anyOf as S[]).some((x) => validate(root, x, v, at).length === 0))
    errs.push(`${at}: anyOf`);
  if (s.oneOf && (s.oneOf as S[]).filter((x) => validate(root, x, v, at).length === 0).length !== 1) {
    errs.push(`${at}: oneOf`);
  }
  if (typeOk('object', v)) {
    const o = v as S;
    for (const k of (s.required as string[] | undefined) ?? []) if (!(k in o)) errs.push(`${at}: needs ${k}`);
    const props = (s.properties as S | undefined) ?? {};
    for (const [k, x] of Object.entries(o)) {
      if (k in props) errs.push(...validate(root, props[k] as S, x, `${at}/${k}`));
      else if (s.additionalProperties === false) errs.push(`${at}/${k}: not allowed`);
      else if (typeof s.additionalProperties === 'object') {
        errs.push(...validate(root, s.additionalProperties as S, x, `${at}/${k}`));
      }
    }
  }
  if (Array.isArray(v) && s.items) {
    for (const [i, x] of v.entries()) errs.push(...validate(root, s.items as S, x, `${at}/${i}`));
  }
  return errs;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? e.name === 'bad-input' || e.name === 'hostile'
        ? []
        : yamlFiles(join(dir, e.name))
      : /\.ya?ml$/.test(e.name)
        ? [join(dir, e.name)]
        : [],
  );
}

const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as unknown);

describe('vioctl schema', () => {
  const r = run('schema');
  const schema = JSON.parse(r.out) as S;

  test('prints draft 2020-12 JSON; the committed schema/scenario.schema.json is fresh', () => {
    expect(r.code).toBe(0);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    // regenerate with: npm run build && node bin/vioctl.js schema > schema/scenario.schema.json
    expect(readFileSync('schema/scenario.schema.json', 'utf8')).toBe(r.out);
  });

  test('every fixture scenario validates', () => {
    for (const f of yamlFiles('fixtures')) {
      for (const d of docs(readFileSync(f, 'utf8'))) {
        if (d !== null) expect(validate(schema, schema, d), f).toEqual([]);
      }
    }
  });

  test('what the loader rejects for its shape, the schema rejects too', () => {
    for (const f of ['unknown-key', 'unknown-action', 'missing-steps', 'unquoted-kernel', 'unknown-patch']) {
      const [d] = docs(readFileSync(`fixtures/bad-input/${f}.yaml`, 'utf8'));
      expect(validate(schema, schema, d), f).not.toEqual([]);
    }
    const twoActions = { name: 'x', steps: [{ open: '/dev/vhost-net', close: 'a' }] };
    expect(validate(schema, schema, twoActions)).not.toEqual([]);
  });

  test('sysfs: / readlink: / ls: paths: the schema accepts exactly what the loader accepts (ls /dev/vfio)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vioctl-schema-'));
    const paths = [
      '/dev/vfio',
      '/dev/vfio/',
      '/dev/vfio/devices',
      '/sys/bus/pci/devices',
      '/sys/kernel/iommu_groups/8/devices',
      '/sys',
      '/sysfs',
      '/dev',
      '/devices',
      '/proc/self/fd',
      'sys/bus',
      '/sys/bus/../../etc',
      '/sys/..',
      '/dev/../sys',
      '/sys/a..b/..c/d..',
    ];
    try {
      for (const action of ['sysfs', 'readlink', 'ls']) {
        for (const path of paths) {
          const doc = { name: 'paths', kernel: '6.12', steps: [{ [action]: path }] };
          const file = join(dir, 'p.yaml');
          writeFileSync(file, stringify(doc));
          let loads = true;
          try {
            loadScenarios([file], {});
          } catch {
            loads = false;
          }
          expect(validate(schema, schema, doc).length === 0, `${action}: ${path}`).toBe(loads);
        }
      }
      // issue 4's `ls /dev/vfio` is a valid step for both
      expect(validate(schema, schema, { name: 'x', steps: [{ ls: '/dev/vfio' }] })).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ioctl names are an enum; step keys come from the loader tables', () => {
    const defs = schema.$defs as S;
    const names = ((defs.ioctl as S).anyOf as S[])[0]!.enum as string[];
    expect(names).toContain('VHOST_VSOCK_SET_RUNNING');
    const steps = (defs.step as S).oneOf as S[];
    const ioctl = steps.find((s) => (s.required as string[])[0] === 'ioctl')!;
    expect(Object.keys(ioctl.properties as S).sort()).toEqual(
      [
        'ioctl',
        'process',
        'as',
        'save',
        'expect',
        'note',
        'pause_at',
        'fail_nth',
        'fd',
        'arg',
        'argp',
      ].sort(),
    );
  });
});
