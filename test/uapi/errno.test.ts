import { describe, expect, test } from 'vitest';
import {
  ERRNO_ALIASES,
  ERRNO_NAMES,
  errnoByNumber,
  errnoInfo,
  resolveErrnoName,
} from '../../src/uapi/errno.js';

// Numbers: include/uapi/asm-generic/errno-base.h, errno.h, include/linux/errno.h; texts: glibc strerror().
describe('errno table', () => {
  test.each([
    ['EPERM', 1, 'Operation not permitted'],
    ['EINTR', 4, 'Interrupted system call'],
    ['EIO', 5, 'Input/output error'],
    ['EBADF', 9, 'Bad file descriptor'],
    ['EAGAIN', 11, 'Resource temporarily unavailable'],
    ['ENOMEM', 12, 'Cannot allocate memory'],
    ['EFAULT', 14, 'Bad address'],
    ['EBUSY', 16, 'Device or resource busy'],
    ['EINVAL', 22, 'Invalid argument'],
    ['ENOTTY', 25, 'Inappropriate ioctl for device'],
    ['EDEADLK', 35, 'Resource deadlock avoided'],
    ['EBADFD', 77, 'File descriptor in bad state'],
    ['ENOTSOCK', 88, 'Socket operation on non-socket'],
    ['EOPNOTSUPP', 95, 'Operation not supported'],
    ['EADDRINUSE', 98, 'Address already in use'],
    ['ENOBUFS', 105, 'No buffer space available'],
    ['EHWPOISON', 133, 'Memory page has hardware error'],
    ['ERESTARTSYS', 512, 'Unknown error 512'],
    ['ENOIOCTLCMD', 515, 'Unknown error 515'],
    ['ENOTSUPP', 524, 'Unknown error 524'],
    ['EIOCBQUEUED', 529, 'Unknown error 529'],
    ['ERECALLCONFLICT', 530, 'Unknown error 530'],
  ] as const)('%s = %i, "%s"', (name, num, text) => {
    expect(errnoInfo(name)).toEqual({ name, num, text });
    expect(errnoByNumber(num)).toEqual({ name, num, text });
  });

  test('covers 1..133 except the unassigned 41 and 58, and numbers are unique', () => {
    for (let n = 1; n <= 133; n++) {
      if (n === 41 || n === 58) expect(errnoByNumber(n)).toBeUndefined();
      else expect(errnoByNumber(n)?.num).toBe(n);
    }
    const nums = ERRNO_NAMES.map((n) => errnoInfo(n).num);
    expect(new Set(nums).size).toBe(nums.length);
    expect(new Set(ERRNO_NAMES).size).toBe(ERRNO_NAMES.length);
  });

  test('unknown numbers', () => {
    expect(errnoByNumber(0)).toBeUndefined();
    expect(errnoByNumber(520)).toBeUndefined();
    expect(errnoByNumber(-22)).toBeUndefined();
  });
});

describe('aliases', () => {
  test('ENOTSUP is EOPNOTSUPP (95) on Linux, not the kernel-internal ENOTSUPP (524)', () => {
    expect(errnoByNumber(95)?.name).toBe('EOPNOTSUPP');
    expect(resolveErrnoName('ENOTSUP')).toBe('EOPNOTSUPP');
    expect(errnoByNumber(524)?.name).toBe('ENOTSUPP');
    expect(resolveErrnoName('ENOTSUPP')).toBe('ENOTSUPP');
  });

  test('EWOULDBLOCK and EDEADLOCK', () => {
    expect(resolveErrnoName('EWOULDBLOCK')).toBe('EAGAIN');
    expect(resolveErrnoName('EDEADLOCK')).toBe('EDEADLK');
    expect(errnoByNumber(11)?.name).toBe('EAGAIN');
    expect(errnoByNumber(35)?.name).toBe('EDEADLK');
  });

  test('aliases are not canonical names', () => {
    for (const alias of Object.keys(ERRNO_ALIASES)) {
      expect((ERRNO_NAMES as readonly string[]).includes(alias)).toBe(false);
    }
  });

  test('canonical names resolve to themselves; anything else is undefined', () => {
    for (const name of ERRNO_NAMES) expect(resolveErrnoName(name)).toBe(name);
    expect(resolveErrnoName('EFOO')).toBeUndefined();
    expect(resolveErrnoName('einval')).toBeUndefined();
    expect(resolveErrnoName('toString')).toBeUndefined();
    expect(resolveErrnoName('')).toBeUndefined();
  });
});
