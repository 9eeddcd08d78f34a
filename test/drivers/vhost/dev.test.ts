import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { hasBackendFeature, type VhostVirtqueue } from '../../../src/drivers/vhost/dev.js';

// hasBackendFeature keeps the last feature word's low half as a number; it must answer as the plain
// bigint test does for every word and bit, however the words alternate.
const vq = (ackedBackendFeatures: bigint) => ({ ackedBackendFeatures }) as VhostVirtqueue;

describe('hasBackendFeature (vhost_backend_has_feature)', () => {
  const word = fc.oneof(fc.bigInt({ min: 0n, max: 0x1ffn }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
  test.prop([fc.array(fc.tuple(word, fc.integer({ min: 0, max: 63 })), { maxLength: 50 })])(
    'agrees with (features >> bit) & 1 for any sequence of words and bits',
    (tests) => {
      for (const [w, bit] of tests)
        expect(hasBackendFeature(vq(w), bit)).toBe(((w >> BigInt(bit)) & 1n) === 1n);
    },
  );

  test('a word that changes between calls is read again', () => {
    expect(hasBackendFeature(vq(0b1000n), 3)).toBe(true);
    expect(hasBackendFeature(vq(0n), 3)).toBe(false);
    expect(hasBackendFeature(vq(1n << 63n), 63)).toBe(true);
    expect(hasBackendFeature(vq(1n << 31n), 31)).toBe(true);
  });
});
