// `vioctl diff` through the real CLI on QEMU's cdev + iommufd hot-reset story: the same sequence
// on 6.5 (no vfio device cdev yet), 6.6 (vfio_pci_fill_devs writes into the user buffer, so the
// ENOSPC header carries DEV_ID|DEV_ID_OWNED) and 6.10 (count first again, ENOSPC with flags 0).
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/vioctl.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const CDEV = 'fixtures/stories/qemu-hot-reset-cdev.yaml';

/** the block of one scenario of the diff, by its name */
function block(out: string, name: string): string {
  const b = out.split('\n\n').find((x) => x.startsWith(name));
  if (!b) throw new Error(`no block for ${name} in\n${out}`);
  return b;
}

describe('vioctl diff on the cdev hot-reset story', () => {
  test('6.5 → 6.6: vfio_device_fops_cdev_open has no node on 6.5; INFO answers only on 6.6', () => {
    const r = run('diff', '--kernel', '6.5', '--kernel', '6.6', CDEV);
    expect(r.code).toBe(1);
    const b = block(r.out, "QEMU's cdev + iommufd hot reset with an unbound sibling on 6.6");
    expect(b).toContain('A: 6.5   B: 6.6');
    expect(b).toMatch(
      /#3 main open: \/dev\/vfio\/devices\/vfio0 {2}as=dev\n +ret +-1 +→ {2}4\n +errno +ENOENT/,
    );
    // the first INFO call: EBADF on 6.5 (no fd), ENOSPC with DEV_ID|DEV_ID_OWNED on 6.6
    const info = b.slice(b.indexOf('#7 main VFIO_DEVICE_GET_PCI_HOT_RESET_INFO'));
    expect(info).toMatch(/errno +EBADF \(Bad file descriptor\) +→ {2}ENOSPC/);
    expect(info).toContain('6.6: {"argsz":12,"flags":3,"count":2,"devices":[]}');
  });

  test('6.6 → 6.10: vfio_pci_ioctl_get_pci_hot_reset_info ENOSPC loses its flags, nothing else changes', () => {
    const r = run('diff', '--kernel', '6.6', '--kernel', '6.10', CDEV);
    expect(r.code).toBe(1);
    const b = block(r.out, "QEMU's cdev + iommufd hot reset with an unbound sibling on 6.6");
    const changed = b.match(/^ {2}#\d+ /gm);
    expect(changed).toEqual(['  #7 ']);
    expect(b).toContain('6.6: {"argsz":12,"flags":3,"count":2,"devices":[]}');
    expect(b).toContain('6.10: {"argsz":12,"flags":0,"count":2,"devices":[]}');
  });
});
