import { decodeClockEventReasons, type ClockEventReason } from './decode-clock-event-reasons.js';
import { isGpuLostText, type DeviceError } from './parse-device-error.js';
import { cellNumber, parseEnabled, parsePstate, type Cell, type QueryTable } from './parse-query-csv.js';

/** One GPU's reading in base units. An absent property = not available on this GPU/driver (never a sentinel). */
export interface GpuReading {
  readonly uuid: string;
  readonly index?: number;
  readonly name?: string;
  readonly pciBusId?: string;
  readonly driverVersion?: string;
  readonly vbiosVersion?: string;
  readonly memoryTotalBytes?: number;
  readonly memoryUsedBytes?: number;
  readonly memoryFreeBytes?: number;
  readonly memoryReservedBytes?: number;
  readonly utilizationRatio?: number;
  readonly memoryUtilizationRatio?: number;
  readonly temperatureCelsius?: number;
  readonly memoryTemperatureCelsius?: number;
  readonly powerDrawWatts?: number;
  /** The enforced limit when known, else the requested one. */
  readonly powerLimitWatts?: number;
  readonly clockSmHertz?: number;
  readonly clockMemoryHertz?: number;
  readonly clockSmMaxHertz?: number;
  readonly fanSpeedRatio?: number;
  /** 0 (P0, maximum performance) .. 15. */
  readonly pstate?: number;
  readonly eccUncorrectedVolatile?: number;
  readonly eccUncorrectedAggregate?: number;
  readonly clockEventReasons?: Readonly<Record<ClockEventReason, boolean>>;
  /** "Default", "Exclusive_Process", "Prohibited"... as printed. */
  readonly computeMode?: string;
  readonly migModeEnabled?: 0 | 1;
  readonly persistenceModeEnabled?: 0 | 1;
  /** A cell of this row said the GPU is lost (e.g. `[GPU is lost]`). */
  readonly lost: boolean;
}

export interface GpuReadings {
  readonly gpus: readonly GpuReading[];
  /** GPUs that answered with an error line, or a row without a usable uuid. */
  readonly unreachable: readonly DeviceError[];
}

/** A parsed --query-gpu table -> typed readings. Pure: unit handling comes from the table's header. */
export function toGpuReadings(table: QueryTable): GpuReadings {
  const gpus: GpuReading[] = [];
  const unreachable: DeviceError[] = [...table.deviceErrors];
  for (const row of table.rows) {
    const text = (f: string) => okText(row.get(f));
    const num = (f: string) => cellNumber(row.get(f), table.units.get(f));
    const lost = [...row.values()].some((c) => !c.ok && isGpuLostText(c.text));
    const uuid = text('uuid');
    if (uuid === undefined) {
      const bus = text('pci.bus_id');
      if (bus !== undefined) unreachable.push({ pciBusId: bus, message: 'row without a uuid', lost });
      continue;
    }
    const reading: Record<string, unknown> = {
      uuid,
      index: num('index'),
      name: text('name'),
      pciBusId: text('pci.bus_id'),
      driverVersion: text('driver_version'),
      vbiosVersion: text('vbios_version'),
      memoryTotalBytes: num('memory.total'),
      memoryUsedBytes: num('memory.used'),
      memoryFreeBytes: num('memory.free'),
      memoryReservedBytes: num('memory.reserved'),
      utilizationRatio: num('utilization.gpu'),
      memoryUtilizationRatio: num('utilization.memory'),
      temperatureCelsius: num('temperature.gpu'),
      memoryTemperatureCelsius: num('temperature.memory'),
      powerDrawWatts: num('power.draw'),
      powerLimitWatts: num('enforced.power.limit') ?? num('power.limit'),
      clockSmHertz: num('clocks.sm'),
      clockMemoryHertz: num('clocks.mem'),
      clockSmMaxHertz: num('clocks.max.sm'),
      fanSpeedRatio: num('fan.speed'),
      pstate: mapText(text('pstate'), parsePstate),
      eccUncorrectedVolatile: num('ecc.errors.uncorrected.volatile.total'),
      eccUncorrectedAggregate: num('ecc.errors.uncorrected.aggregate.total'),
      clockEventReasons: mapText(text('clocks_event_reasons.active'), decodeClockEventReasons),
      computeMode: text('compute_mode'),
      migModeEnabled: mapText(text('mig.mode.current'), parseEnabled),
      persistenceModeEnabled: mapText(text('persistence_mode'), parseEnabled),
      lost,
    };
    // Drop absent properties so "not available" is one shape: the key is missing.
    for (const k of Object.keys(reading)) if (reading[k] === undefined) delete reading[k];
    gpus.push(reading as unknown as GpuReading);
  }
  return { gpus, unreachable };
}

function okText(cell: Cell | undefined): string | undefined {
  return cell?.ok ? cell.text : undefined;
}

function mapText<T>(text: string | undefined, f: (t: string) => T | undefined): T | undefined {
  return text === undefined ? undefined : f(text);
}
