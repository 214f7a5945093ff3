import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQueryCsv } from '../../../../shared/gpu/parse-query-csv.js';
import { parseHelpQuery } from '../../../../shared/gpu/parse-help-query.js';
import { toGpuReadings } from '../../../../shared/gpu/to-gpu-readings.js';
import { captureCells, fixture, Q, Q2 } from '../../../helpers/gpu-fixture.js';

const catalog = parseHelpQuery(fixture('help-query-gpu.txt'));
const MiB = 1048576;

function readings(file: string, fields: readonly string[]) {
  return toGpuReadings(parseQueryCsv(fixture(file), fields, { catalog, freeTextField: 'name' }));
}

/** A capture cell as a number, whether or not it still carries its unit. */
function n(cell: string): number {
  return Number(cell.replace(/ (MiB|%|W|MHz)$/, ''));
}

for (const [file, fields] of [
  ['query-gpu-idle.csv', Q],
  ['query-gpu-busy.csv', Q],
  ['query-gpu-nounits-idle.csv', Q2],
  ['query-gpu-nounits-busy.csv', Q2],
] as const) {
  test(`${file}: converted to base units`, () => {
    const { gpus, unreachable } = readings(file, fields);
    assert.deepEqual(unreachable, []);
    assert.equal(gpus.length, 1);
    const g = gpus[0]!;
    const cells = captureCells(file).rows[0]!;
    const at = (f: string) => cells[fields.indexOf(f)]!;
    assert.equal(g.uuid, at('uuid'));
    assert.equal(g.index, 0);
    assert.equal(g.pciBusId, '00000000:00:06.0');
    assert.equal(g.driverVersion, '580.159.04');
    assert.equal(g.memoryTotalBytes, n(at('memory.total')) * MiB);
    assert.equal(g.memoryUsedBytes, n(at('memory.used')) * MiB);
    assert.equal(g.memoryFreeBytes, n(at('memory.free')) * MiB);
    assert.equal(g.utilizationRatio, n(at('utilization.gpu')) * 0.01);
    assert.equal(g.memoryUtilizationRatio, n(at('utilization.memory')) * 0.01);
    assert.equal(g.temperatureCelsius, n(at('temperature.gpu')));
    assert.equal(g.powerDrawWatts, n(at('power.draw')));
    assert.equal(g.powerLimitWatts, 700);
    assert.equal(g.clockSmHertz, n(at('clocks.sm')) * 1e6);
    assert.equal(g.pstate, 0);
    assert.equal(g.lost, false);
    // [N/A] fan on a data-centre card: absent, not 0 and not a sentinel.
    assert.equal('fanSpeedRatio' in g, false);
    assert.ok(g.utilizationRatio! >= 0 && g.utilizationRatio! <= 1);
  });
}

test('nounits idle: reserved memory, ECC, MIG, compute mode and the gpu_idle event reason', () => {
  const g = readings('query-gpu-nounits-idle.csv', Q2).gpus[0]!;
  assert.equal(g.memoryReservedBytes, 480 * MiB);
  assert.equal(g.eccUncorrectedVolatile, 0);
  assert.equal(g.migModeEnabled, 0);
  assert.equal(g.computeMode, 'Default');
  assert.equal(g.clockEventReasons?.gpu_idle, true);
  assert.equal(Object.values(g.clockEventReasons!).filter(Boolean).length, 1);
});

test('nounits busy: no event reason active', () => {
  const g = readings('query-gpu-nounits-busy.csv', Q2).gpus[0]!;
  assert.equal(Object.values(g.clockEventReasons!).some(Boolean), false);
  assert.equal(g.utilizationRatio, 1);
});

test('a row whose cells say the GPU is lost is flagged; a row without uuid is unreachable', () => {
  const out =
    'uuid, pci.bus_id, memory.used [MiB]\nGPU-a, 00000000:01:00.0, [GPU is lost]\n[GPU is lost], 00000000:02:00.0, [GPU is lost]\n';
  const r = toGpuReadings(parseQueryCsv(out, ['uuid', 'pci.bus_id', 'memory.used']));
  assert.equal(r.gpus.length, 1);
  assert.equal(r.gpus[0]!.lost, true);
  assert.equal('memoryUsedBytes' in r.gpus[0]!, false);
  assert.deepEqual(
    r.unreachable.map((u) => [u.pciBusId, u.lost]),
    [['00000000:02:00.0', true]],
  );
});
