import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cellNumber,
  parseEnabled,
  parsePstate,
  parseQueryCsv,
  splitCsvRow,
} from '../../../../shared/gpu/parse-query-csv.js';
import { parseHelpQuery } from '../../../../shared/gpu/parse-help-query.js';
import { NvidiaSmiError } from '../../../../shared/gpu/run-nvidia-smi.js';
import { captureCells, fixture, Q, Q2 } from '../../../helpers/gpu-fixture.js';

const catalog = parseHelpQuery(fixture('help-query-gpu.txt'));

for (const [file, fields] of [
  ['query-gpu-idle.csv', Q],
  ['query-gpu-busy.csv', Q],
  ['query-gpu-nounits-idle.csv', Q2],
  ['query-gpu-nounits-busy.csv', Q2],
] as const) {
  test(`${file}: one row keyed by the requested fields, header units kept`, () => {
    const table = parseQueryCsv(fixture(file), fields, { catalog, freeTextField: 'name' });
    const { header, rows } = captureCells(file);
    assert.equal(table.rows.length, rows.length);
    assert.deepEqual(table.deviceErrors, []);
    assert.deepEqual(table.otherLines, []);
    const row = table.rows[0]!;
    assert.deepEqual([...row.keys()], fields);
    // clocks.sm was asked for; the header says clocks.current.sm: the row is still keyed clocks.sm.
    assert.ok(header.some((h) => h.startsWith('clocks.current.sm')));
    assert.equal(table.units.get('clocks.sm'), 'MHz');
    assert.equal(table.units.get('memory.used'), 'MiB');
    assert.equal(table.units.get('utilization.gpu'), '%');
    assert.equal(table.units.get('power.draw'), 'W');
    assert.equal(table.units.get('temperature.gpu'), undefined);
    assert.equal(row.get('uuid')?.text, rows[0]![1]);
    assert.equal(row.get('name')?.text, 'NVIDIA H100 80GB HBM3');
    // fan.speed is [N/A] on this fanless card.
    assert.deepEqual(row.get('fan.speed'), { ok: false, text: '[N/A]' });
    // With units the value carries them ("4467 MiB"); either way the cell holds the bare number.
    assert.match(row.get('memory.used')!.text, /^\d+$/);
    assert.match(row.get('power.draw')!.text, /^\d+\.\d+$/);
  });
}

test('without a catalog the built-in renames still match clocks.sm', () => {
  const table = parseQueryCsv(fixture('query-gpu-idle.csv'), Q);
  assert.equal(table.rows.length, 1);
});

test('a header that does not match the fields asked for is a parse error naming both', () => {
  const fields = [...Q];
  fields[6] = 'memory.free'; // swapped order: header says memory.used here
  fields[7] = 'memory.used';
  assert.throws(
    () => parseQueryCsv(fixture('query-gpu-idle.csv'), fields, { catalog }),
    (e: unknown) =>
      e instanceof NvidiaSmiError &&
      e.reason === 'parse' &&
      /column 7 is "memory.used" but "memory.free"/.test(e.message),
  );
});

test('a header with another column count is a parse error', () => {
  assert.throws(
    () => parseQueryCsv(fixture('query-gpu-idle.csv'), Q.slice(0, 5), { catalog }),
    (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'parse' && /16 columns but 5 fields/.test(e.message),
  );
});

test('every unavailable marker becomes a not-ok cell', () => {
  const out =
    'uuid, power.draw [W], fan.speed [%], temperature.gpu, pstate\n' +
    'GPU-a, [Not Supported], [Insufficient Permissions], N/A, [GPU is lost]\n';
  const row = parseQueryCsv(out, ['uuid', 'power.draw', 'fan.speed', 'temperature.gpu', 'pstate']).rows[0]!;
  assert.deepEqual(
    ['power.draw', 'fan.speed', 'temperature.gpu', 'pstate'].map((f) => row.get(f)!.ok),
    [false, false, false, false],
  );
  assert.equal(row.get('pstate')!.text, '[GPU is lost]');
});

test('device error lines are collected, the other GPUs still parse', () => {
  const out =
    'index, uuid\n0, GPU-a\nUnable to determine the device handle for GPU0000:65:00.0: GPU is lost.  Reboot the system to recover this GPU\n';
  const table = parseQueryCsv(out, ['index', 'uuid']);
  assert.equal(table.rows.length, 1);
  assert.equal(table.deviceErrors.length, 1);
  assert.equal(table.deviceErrors[0]!.pciBusId, '0000:65:00.0');
  assert.equal(table.deviceErrors[0]!.lost, true);
});

test('a name holding ", " is read outside-in', () => {
  const out = 'index, name, uuid\n0, Weird, Name, Inc., GPU-a\n';
  const row = parseQueryCsv(out, ['index', 'name', 'uuid'], { freeTextField: 'name' }).rows[0]!;
  assert.equal(row.get('name')!.text, 'Weird, Name, Inc.');
  assert.equal(row.get('uuid')!.text, 'GPU-a');
});

test('empty output is an empty table (noheader with no rows)', () => {
  assert.equal(parseQueryCsv('', ['uuid']).rows.length, 0);
});

test('pstate P0..P15', () => {
  assert.equal(parsePstate('P0'), 0);
  assert.equal(parsePstate('P8'), 8);
  assert.equal(parsePstate('P15'), 15);
  assert.equal(parsePstate('P16'), undefined);
  assert.equal(parsePstate('[Unknown]'), undefined);
});

test('Enabled/Disabled words', () => {
  assert.deepEqual(['Enabled', 'Disabled', 'Yes', 'No', 'Active', 'Not Active', 'N/A'].map(parseEnabled), [
    1,
    0,
    1,
    0,
    1,
    0,
    undefined,
  ]);
});

test('splitCsvRow reads free text outside-in and refuses short lines', () => {
  assert.deepEqual(splitCsvRow('a, b, c', 3), ['a', 'b', 'c']);
  assert.deepEqual(splitCsvRow('a, b, x, c', 3, 1), ['a', 'b, x', 'c']);
  assert.deepEqual(splitCsvRow('a, b, x', 2, 1), ['a', 'b, x']);
  assert.equal(splitCsvRow('a, b', 3, 1), undefined);
  assert.equal(splitCsvRow('a, b, c, d', 3), undefined);
});

test('cellNumber: base units from the header unit, nothing for unknown units or text', () => {
  const ok = (text: string) => ({ ok: true as const, text });
  assert.equal(cellNumber(ok('2'), 'MiB'), 2 * 1048576);
  assert.equal(cellNumber(ok('45'), '%'), 0.45);
  assert.equal(cellNumber(ok('1980'), 'MHz'), 1980e6);
  assert.equal(cellNumber(ok('623.90'), 'W'), 623.9);
  assert.equal(cellNumber(ok('57'), undefined), 57);
  assert.equal(cellNumber(ok('57'), 'furlongs'), undefined);
  assert.equal(cellNumber(ok('P0'), undefined), undefined);
  assert.equal(cellNumber({ ok: false, text: '[N/A]' }, 'W'), undefined);
  assert.equal(cellNumber(undefined, 'W'), undefined);
});

test('cellNumber: percentages and milli-units divide, so 41 % is exactly 0.41 as NVML gives it', () => {
  const ok = (text: string) => ({ ok: true as const, text });
  assert.equal(cellNumber(ok('41'), '%'), 0.41);
  assert.equal(cellNumber(ok('7'), '%'), 0.07);
  assert.equal(cellNumber(ok('94330'), 'mW'), 94.33);
  assert.equal(cellNumber(ok('1500'), 'us'), 0.0015);
});
