import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readNdjson, type NdjsonObject } from '../../../../shared/ollama/read-ndjson.js';
import { OllamaError } from '../../../../shared/ollama/ollama-error.js';

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<string | Uint8Array> {
  for (const p of parts) yield p;
}

const isSuccess = (v: NdjsonObject): boolean => v.status === 'success';
const PULL = [
  '{"status":"pulling manifest"}',
  '{"status":"pulling abc","digest":"abc","total":10,"completed":5}',
  '{"status":"success"}',
];

test('returns the final object and reports every value in order', async () => {
  const seen: unknown[] = [];
  const final = await readNdjson(chunks(PULL.join('\n') + '\n'), {
    isFinal: isSuccess,
    onValue: (v) => seen.push(v.status),
  });
  assert.deepEqual(final, { status: 'success' });
  assert.deepEqual(seen, ['pulling manifest', 'pulling abc', 'success']);
});

test('any split of the byte stream gives the same result, multi-byte characters included', async () => {
  const text = '{"status":"héllo ✓"}\r\n\n' + PULL.join('\n');
  const bytes = new TextEncoder().encode(text);
  for (let cut = 1; cut < bytes.length; cut++) {
    const seen: unknown[] = [];
    const final = await readNdjson(chunks(bytes.slice(0, cut), bytes.slice(cut)), {
      isFinal: isSuccess,
      onValue: (v) => seen.push(v.status),
    });
    assert.equal(final.status, 'success', `cut at ${cut}`);
    assert.deepEqual(seen, ['héllo ✓', 'pulling manifest', 'pulling abc', 'success'], `cut at ${cut}`);
  }
  // One byte at a time.
  const single = [...bytes].map((b) => Uint8Array.of(b));
  assert.equal((await readNdjson(chunks(...single), { isFinal: isSuccess })).status, 'success');
});

test('an error line fails with its message even with status 200', async () => {
  const source = chunks(
    '{"status":"pulling manifest"}\n{"error":"pull model manifest: file does not exist"}\n{"status":"success"}\n',
  );
  await assert.rejects(readNdjson(source, { isFinal: isSuccess, status: 200 }), (err: OllamaError) => {
    assert.equal(err.reason, 'stream_error');
    assert.equal(err.message, 'pull model manifest: file does not exist');
    assert.equal(err.status, 200);
    return true;
  });
});

test('a stream that ends without the final object is truncated', async () => {
  await assert.rejects(readNdjson(chunks(PULL.slice(0, 2).join('\n') + '\n'), { isFinal: isSuccess }), {
    reason: 'truncated',
  });
  await assert.rejects(readNdjson(chunks(''), { isFinal: isSuccess }), { reason: 'truncated' });
  // A final line cut in the middle is not JSON.
  await assert.rejects(readNdjson(chunks(PULL[0] + '\n{"status":"succ'), { isFinal: isSuccess }), {
    reason: 'bad_json',
  });
});

test('the last line may lack its newline', async () => {
  assert.equal((await readNdjson(chunks(PULL.join('\n')), { isFinal: isSuccess })).status, 'success');
});

test('non-JSON and non-object lines are bad_json', async () => {
  await assert.rejects(readNdjson(chunks('<html>\n'), { isFinal: isSuccess }), { reason: 'bad_json' });
  await assert.rejects(readNdjson(chunks('[1,2]\n'), { isFinal: isSuccess }), { reason: 'bad_json' });
  await assert.rejects(readNdjson(chunks('"success"\n'), { isFinal: isSuccess }), { reason: 'bad_json' });
});

test('an endless line is refused instead of buffered', async () => {
  await assert.rejects(
    readNdjson(chunks('{"a":"', 'x'.repeat(100), 'y'.repeat(100)), { isFinal: isSuccess, maxLineLength: 150 }),
    {
      reason: 'bad_json',
    },
  );
});

test('stops reading at the final object', async () => {
  let pulledAfter = false;
  async function* source(): AsyncGenerator<string> {
    yield '{"done":true}\n';
    pulledAfter = true;
    yield 'garbage\n';
  }
  assert.deepEqual(await readNdjson(source(), { isFinal: (v) => v.done === true }), { done: true });
  assert.equal(pulledAfter, false);
});
