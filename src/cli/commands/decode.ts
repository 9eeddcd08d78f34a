// `vioctl decode NUMBER [--fd TYPE]`: names a raw ioctl request number (every candidate where fd
// types share it, as VFIO's do) and decodes its _IOC fields; `decode --iotlb HEX` decodes the bytes
// of a vhost message. Exit 0 when named, 1 when no known ioctl has the number, 2 on bad input.

import { iocDecode } from '../../uapi/ioc.js';
import type { IoctlDef } from '../../uapi/ioctl-def.js';
import { ALL_IOCTLS, ioctlsByNumber } from '../../uapi/ioctls.js';
import { decodeIotlb } from '../iotlb-decode.js';
import { answersOn, fdTypes, fdTypesText, hex32, iocLines } from '../uapi-text.js';

export interface DecodeOptions {
  fd?: string;
  iotlb?: boolean;
}

function fail(message: string): number {
  process.stderr.write(`error: ${message}\n`);
  return 2;
}

/** A request number as strace -X raw prints it (hex), in decimal, or as a negative int. */
export function parseRequest(s: string): number | undefined {
  const t = s.trim();
  if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(t)) return undefined;
  const v = BigInt(t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t));
  if (v < -(1n << 31n) || v >= 1n << 32n) return undefined;
  return Number(BigInt.asUintN(32, v));
}

export function decodeCommand(value: string, opts: DecodeOptions): number {
  if (opts.iotlb) {
    const r = decodeIotlb(value);
    if (typeof r === 'string') return fail(r);
    process.stdout.write(r.join('\n') + '\n');
    return 0;
  }
  const n = parseRequest(value);
  if (n === undefined)
    return fail(`expected an ioctl request number (0x… or decimal, 32 bits), got "${value}"`);
  const types = fdTypes();
  if (opts.fd !== undefined && !types.includes(opts.fd)) {
    return fail(`--fd: unknown fd type "${opts.fd}" (known: ${types.join(', ')})`);
  }
  const all = ioctlsByNumber(n);
  const fd = opts.fd;
  const named = fd === undefined ? all : all.filter((d) => answersOn(d.family, fd));
  const out = [`${hex32(n)}  (${n >>> 0})`, ...iocLines(n)];
  if (named.length === 0) {
    const f = iocDecode(n);
    const near = ALL_IOCTLS.filter((d) => {
      const g = iocDecode(d.number);
      return g.type === f.type && g.nr === f.nr && !all.includes(d);
    });
    out.push(
      fd !== undefined && all.length > 0
        ? `no ${fd} ioctl has this number; other fd types: ${all.map((d) => `${d.name} (${d.family})`).join(', ')}`
        : 'no ioctl vioctl knows has this number',
    );
    if (near.length) {
      out.push('same type and nr, another direction or size (a wrong struct size?):');
      for (const d of near) out.push(`  ${d.name}  ${hex32(d.number)}  (${d.family})`);
    }
    process.stdout.write(out.join('\n') + '\n');
    return 1;
  }
  const line = (d: IoctlDef) =>
    `${d.name}  on ${fdTypesText(d)}${d.proposed ? `  (proposed: --patch ${d.proposed})` : ''}`;
  if (named.length === 1) out.push(`ioctl      ${line(named[0]!)}`);
  else {
    out.push(`${named.length} candidates (fd types share this number; --fd picks one):`);
    for (const d of named) out.push(`  ${line(d)}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
