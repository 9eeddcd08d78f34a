// `vioctl decode` through the real CLI: raw numbers (every candidate where fd types share one),
// --fd, numbers no table has, and vhost messages in v1 and v2 form.
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { ALL_IOCTLS, ioctlsByNumber } from '../../src/uapi/ioctls.js';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/vioctl.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const hex32 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
const shared = ALL_IOCTLS.find((d) => ioctlsByNumber(d.number).length > 1);

/** A 72-byte message: header type, word 1, then vhost_iotlb_msg. */
function msg(
  header: number,
  word1: number,
  iova: bigint,
  size: bigint,
  uaddr: bigint,
  perm: number,
  type: number,
) {
  const b = Buffer.alloc(72);
  b.writeUInt32LE(header, 0);
  b.writeUInt32LE(word1, 4);
  b.writeBigUInt64LE(iova, 8);
  b.writeBigUInt64LE(size, 16);
  b.writeBigUInt64LE(uaddr, 24);
  b[32] = perm;
  b[33] = type;
  return b.toString('hex');
}

describe('vioctl decode', () => {
  test('names a number and decodes _IOC', () => {
    const r = run('decode', '0x8008af00');
    expect(r.code).toBe(0);
    expect(r.out).toContain('encoding   _IOR(0xaf, 0x00, 8 bytes)');
    expect(r.out).toContain('ioctl      VHOST_GET_FEATURES');
    expect(run('decode', String(0x8008af00)).out).toContain('VHOST_GET_FEATURES');
  });

  test('--fd narrows to the fd type; an ioctl of another type is named as such', () => {
    expect(run('decode', '0x4004af61', '--fd', 'vhost-vsock').out).toContain('VHOST_VSOCK_SET_RUNNING');
    const r = run('decode', '0x4004af61', '--fd', 'vhost-net');
    expect(r.code).toBe(1);
    expect(r.out).toContain('no vhost-net ioctl has this number; other fd types: VHOST_VSOCK_SET_RUNNING');
    // the vhost core's ioctls answer on every vhost device
    expect(run('decode', '0x8008af00', '--fd', 'vhost-vdpa').code).toBe(0);
  });

  test.skipIf(!shared)('a shared number lists every candidate; --fd picks one', () => {
    const all = ioctlsByNumber(shared!.number);
    const r = run('decode', hex32(shared!.number));
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${all.length} candidates`);
    for (const d of all) expect(r.out).toContain(d.name);
    const one = run('decode', hex32(shared!.number), '--fd', all[1]!.family);
    expect(one.out).toContain(all[1]!.name);
    expect(one.out).not.toContain(`  ${all[0]!.name}  `);
  });

  test('a number no table has: exit 1, with same type and nr ioctls', () => {
    const r = run('decode', '0x8008af12');
    expect(r.code).toBe(1);
    expect(r.out).toContain('no ioctl vioctl knows has this number');
    expect(r.out).toContain('VHOST_GET_VRING_BASE  0xc008af12');
  });

  test('bad input: exit 2', () => {
    expect(run('decode', 'VHOST').code).toBe(2);
    expect(run('decode', '0x1ffffffff').code).toBe(2);
    const r = run('decode', '0x8008af00', '--fd', 'nope');
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown fd type "nope"');
  });

  test('--iotlb: a v2 UPDATE and a v1 MISS', () => {
    const v2 = run('decode', '--iotlb', msg(2, 1, 0x100000n, 0x1000n, 0x7f0000000000n, 3, 2));
    expect(v2.code).toBe(0);
    expect(v2.out).toContain('header     type 2 VHOST_IOTLB_MSG_V2 (struct vhost_msg_v2), asid 1');
    expect(v2.out).toContain('iotlb.type 2 VHOST_IOTLB_UPDATE');
    expect(v2.out).toContain('uaddr      0x7f0000000000');
    expect(v2.out).toContain('perm       3 VHOST_ACCESS_RW');
    const v1 = run('decode', '--iotlb', msg(1, 0, 0x7efffff02000n, 0n, 0n, 1, 1));
    expect(v1.out).toContain('VHOST_IOTLB_MSG (struct vhost_msg, v1: no asid)');
    expect(v1.out).toContain('iotlb.type 1 VHOST_IOTLB_MISS');
    expect(run('decode', '--iotlb', '0102').code).toBe(2);
  });
});
