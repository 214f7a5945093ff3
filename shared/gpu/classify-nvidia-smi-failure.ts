/**
 * A failed nvidia-smi run -> one bounded reason. nvidia-smi prints its errors on STDOUT, so the message is read
 * from both streams. Messages are checked first (they are more specific than exit codes, and wrappers such as
 * sudo or a container runtime may change the code); then nvidia-smi's documented exit codes, which are NVML
 * return codes; anything else becomes `exit_<code>` (0..255, so still bounded).
 */
const BY_MESSAGE: readonly (readonly [RegExp, string])[] = [
  [/is not a valid field to query/i, 'bad_field'],
  [/Driver\/library version mismatch|Mismatch in versions between nvidia-smi and NVML/i, 'version_mismatch'],
  [/couldn't find libnvidia-ml\.so|NVML Shared Library Not Found|libnvidia-ml\.so[^\n]*(cannot open|not found|No such file)/i, 'nvml_library_missing'],
  [/GPU is lost|fallen off the bus/i, 'gpu_lost'],
  [/couldn't communicate with the NVIDIA driver|Driver Not Loaded/i, 'driver_not_loaded'],
  [/Failed to initialize NVML/i, 'nvml_init_failed'],
  [/No devices were found/i, 'no_devices'],
  [/Insufficient Permissions|No permission/i, 'no_permission'],
  [/Unable to determine the device handle/i, 'device_unreachable'],
];

// nvidia-smi(1) RETURN VALUE section; 18 = NVML_ERROR_LIB_RM_VERSION_MISMATCH, seen in the wild (gputil#55).
const BY_EXIT_CODE: ReadonlyMap<number, string> = new Map([
  [2, 'invalid_argument'],
  [3, 'not_supported'],
  [4, 'no_permission'],
  [6, 'not_found'],
  [8, 'insufficient_power'],
  [9, 'driver_not_loaded'],
  [10, 'irq_issue'],
  [12, 'nvml_library_missing'],
  [13, 'function_not_found'],
  [14, 'inforom_corrupted'],
  [15, 'gpu_lost'],
  [18, 'version_mismatch'],
]);

export function classifyNvidiaSmiFailure(exitCode: number, output: string): string {
  for (const [pattern, reason] of BY_MESSAGE) if (pattern.test(output)) return reason;
  return BY_EXIT_CODE.get(exitCode) ?? `exit_${exitCode}`;
}
