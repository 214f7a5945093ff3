import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyNvidiaSmiFailure } from '../../../../shared/gpu/classify-nvidia-smi-failure.js';
import { fixture } from './fixture.js';

test('unknown-field.out (real, exit 2): bad_field', () => {
  const out = fixture('unknown-field.out');
  const rc = Number(/rc=(\d+)/.exec(out)![1]);
  assert.equal(rc, 2);
  assert.equal(classifyNvidiaSmiFailure(rc, out), 'bad_field');
});

test('messages win over exit codes', () => {
  const cases: [number, string, string][] = [
    [18, 'Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 535.161\n', 'version_mismatch'],
    [255, 'Failed to initialize NVML: Driver/library version mismatch\n', 'version_mismatch'],
    [255, 'Failed to initialize NVML: Unknown Error\n', 'nvml_init_failed'],
    [12, "NVIDIA-SMI couldn't find libnvidia-ml.so library in your system. Please make sure that the NVIDIA Display Driver is properly installed and present in your system.\n", 'nvml_library_missing'],
    [15, 'Unable to determine the device handle for GPU0000:65:00.0: GPU is lost.  Reboot the system to recover this GPU\n', 'gpu_lost'],
    [255, 'Unable to determine the device handle for GPU0000:65:00.0: Unknown Error\n', 'device_unreachable'],
    [9, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n", 'driver_not_loaded'],
    [6, 'No devices were found\n', 'no_devices'],
  ];
  for (const [code, text, reason] of cases) assert.equal(classifyNvidiaSmiFailure(code, text), reason, text);
});

test('documented exit codes without a known message', () => {
  const cases: [number, string][] = [
    [2, 'invalid_argument'], [3, 'not_supported'], [4, 'no_permission'], [6, 'not_found'], [8, 'insufficient_power'],
    [9, 'driver_not_loaded'], [12, 'nvml_library_missing'], [14, 'inforom_corrupted'], [15, 'gpu_lost'],
    [18, 'version_mismatch'], [255, 'exit_255'], [1, 'exit_1'],
  ];
  for (const [code, reason] of cases) assert.equal(classifyNvidiaSmiFailure(code, 'something odd'), reason, String(code));
});
