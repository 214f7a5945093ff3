// The scrape path: one rendering per change of the snapshots and per format/encoding, the same bytes for every
// scraper until the next change, and OpenMetrics/gzip negotiated from the scraper's headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { startExporterHarness } from '../../../helpers/start-exporter-harness.js';
import { defaultH100Gpu, defaultH100State } from '../../../sim/gpu-state.js';
import { rawGet } from '../../../helpers/raw-get.js';
import { parseExposition } from '../../../helpers/parse-exposition.js';

const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

function eightGpus() {
  const s = defaultH100State();
  s.gpus = Array.from({ length: 8 }, (_, i) =>
    defaultH100Gpu(i, `GPU-f88d2996-314d-4abe-0c94-acc6aa41769${i}`, `00000000:00:0${i}.0`),
  );
  return s;
}

/** Sample lines (not comments, not blank) of an exposition. */
function samples(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

test('the same bytes for every scrape until a snapshot changes, then new bytes', async (t) => {
  // Collections run only when the test says so: nothing changes between the first two scrapes.
  const h = await startExporterHarness({ start: false, gpuState: eightGpus() });
  t.after(() => h.close());
  await h.exporter.scheduler.runNow('gpu');
  await h.exporter.scheduler.runNow('ollama');

  const url = `${h.url}/metrics`;
  const [a, b] = await Promise.all([rawGet(url), rawGet(url)]);
  const c = await rawGet(url);
  assert.equal(a.status, 200);
  assert.ok(a.body.equals(b.body) && a.body.equals(c.body), 'identical bytes without a change');
  assert.equal(parseExposition(a.body.toString()).get('sentinel_gpus'), 8);

  await h.updateGpu((s) => void (s.gpus[3]!.temperatureC = 81));
  await h.exporter.scheduler.runNow('gpu');
  const d = await rawGet(url);
  assert.ok(!d.body.equals(a.body), 'a new snapshot gives new bytes');
  assert.match(d.body.toString(), /^sentinel_gpu_temperature_celsius\{[^}]*\} 81$/m);
});

test('text, OpenMetrics and gzip: exact headers, gunzip gives the same text, OpenMetrics ends with # EOF and has the same samples', async (t) => {
  const h = await startExporterHarness({ start: false, gpuState: eightGpus() });
  t.after(() => h.close());
  await h.exporter.scheduler.runNow('gpu');
  await h.exporter.scheduler.runNow('ollama');
  const url = `${h.url}/metrics`;

  const text = await rawGet(url);
  assert.equal(text.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(text.headers['content-encoding'], undefined);
  assert.equal(text.headers.vary, 'Accept, Accept-Encoding');
  assert.equal(Number(text.headers['content-length']), text.body.length);

  const gz = await rawGet(url, { 'accept-encoding': 'gzip, deflate' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.headers['content-type'], text.headers['content-type']);
  assert.ok(gunzipSync(gz.body).equals(text.body), 'gunzip equals the text scrape');
  const gzAgain = await rawGet(url, { 'accept-encoding': 'gzip' });
  assert.ok(gzAgain.body.equals(gz.body), 'the compressed bytes are cached too');
  const refused = await rawGet(url, { 'accept-encoding': 'gzip;q=0, identity' });
  assert.equal(refused.headers['content-encoding'], undefined, 'gzip;q=0 is a refusal');

  const om = await rawGet(url, { accept: PROMETHEUS_ACCEPT });
  assert.equal(om.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
  const omText = om.body.toString();
  assert.ok(omText.endsWith('# EOF\n'), 'OpenMetrics ends with # EOF');
  assert.equal(samples(omText).length, samples(text.body.toString()).length, 'as many samples as the text format');
  const omGz = await rawGet(url, { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' });
  assert.equal(omGz.headers['content-encoding'], 'gzip');
  assert.ok(gunzipSync(omGz.body).equals(om.body));
  // A scraper preferring text gets text even when it also accepts OpenMetrics.
  const pref = await rawGet(url, { accept: 'text/plain;version=0.0.4, application/openmetrics-text;q=0.1' });
  assert.ok(pref.body.equals(text.body));
});
