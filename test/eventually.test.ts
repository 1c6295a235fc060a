import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from './support/eventually.ts';

test('eventually returns what the check returns once it passes, after retrying its failures', async () => {
  let calls = 0;
  const value = await eventually(() => {
    calls++;
    assert.ok(calls >= 3, `call ${calls}`);
    return calls;
  });
  assert.equal(value, 3);
});

test('eventually fails with the last error once the deadline has passed', async () => {
  let calls = 0;
  await assert.rejects(
    eventually(
      () => {
        calls++;
        assert.equal(calls, 0, `call ${calls}`);
      },
      { timeoutMs: 100, intervalMs: 10 },
    ),
    (err: Error) => {
      assert.match(err.message, new RegExp(`^still failing after 100 ms: call ${calls}(\\n|$)`));
      return true;
    },
  );
  assert.ok(calls >= 2, `${calls} calls`);
});

test('eventually gives up at once with the reason when its signal aborts', async () => {
  const gone = new AbortController();
  let calls = 0;
  const polling = eventually(
    () => {
      calls++;
      if (calls === 2) gone.abort(new Error('the process exited'));
      throw new Error('not yet');
    },
    { timeoutMs: 60_000, intervalMs: 1, signal: gone.signal },
  );
  await assert.rejects(polling, { message: 'the process exited' });
  assert.equal(calls, 2);
});
