import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { releaseStartupMemory } from '../src/release-memory.ts';

test('releasing startup memory leaves no gc() behind, here or in new contexts', () => {
  const hadGc = typeof (globalThis as { gc?: unknown }).gc;
  releaseStartupMemory();
  releaseStartupMemory();
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, hadGc);
  assert.equal(runInNewContext('typeof gc'), 'undefined');
});
