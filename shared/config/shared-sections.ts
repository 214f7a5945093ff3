import type { ConfigSection } from './config-section.js';
import { parseDockerHost } from './parse-docker-host.js';

export const logSection: ConfigSection = {
  key: 'log',
  doc: 'Logging: JSON lines (or logfmt) on stdout (pino); human-facing progress goes to stderr.',
  scalars: {
    level: {
      kind: 'enum',
      values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
      default: 'info',
      doc: 'Lowest level written.',
    },
    format: {
      kind: 'enum',
      values: ['json', 'logfmt'],
      default: 'json',
      doc: 'json: one JSON object per line; logfmt: `ts=… level=… msg="…" key=value`, as Go exporters write with --log.format=logfmt.',
    },
  },
};

export const gpuSection: ConfigSection = {
  key: 'gpu',
  doc: 'How GPUs are read (NVML in-process, or nvidia-smi) and how their processes are attributed.',
  scalars: {
    backend: {
      kind: 'enum',
      values: ['auto', 'nvml', 'nvidia_smi'],
      // nvidia_smi stays the default until the NVML backend has been compared with nvidia-smi on a real GPU: its struct
      // layouts come from NVIDIA's documentation and a fake library, and a wrong GPU-memory reading could heal falsely.
      default: 'nvidia_smi',
      doc: 'nvidia_smi: spawn nvidia-smi (default); auto: NVML in-process when the library loads, else nvidia-smi; nvml: NVML only (a missing library is an error). NVML is not yet checked on a real GPU.',
    },
    nvml_library: {
      kind: 'string',
      default: 'libnvidia-ml.so.1',
      doc: 'NVML library name or path for the nvml backend (found through the loader path when it has no slash).',
    },
    nvidia_smi: {
      kind: 'string',
      default: 'nvidia-smi',
      doc: 'nvidia-smi command or path (a wrapper script works too).',
    },
    interval: { kind: 'duration', default: '15s', min: 1000, doc: 'How often GPUs are sampled, in the background.' },
    timeout: {
      kind: 'duration',
      default: '10s',
      min: 100,
      doc: 'Hard limit for one nvidia-smi run (a hung run is killed) or one NVML request (a hung one makes NVML stuck).',
    },
    processes: { kind: 'bool', default: true, doc: 'Publish one series per GPU compute process (pid label).' },
    max_processes_per_gpu: {
      kind: 'int',
      default: 20,
      min: 0,
      max: 1000,
      doc: 'Cap on per-process series per GPU, keeping the largest; the rest is counted as dropped.',
    },
    proc_root: {
      kind: 'string',
      default: '/proc',
      doc: 'The host /proc as this process sees it (mount the host /proc and set /host/proc in a container).',
    },
  },
};

export const dockerSection: ConfigSection = {
  key: 'docker',
  doc: 'The Docker Engine that runs the Ollama containers.',
  scalars: {
    host: {
      kind: 'string',
      default: 'unix:///var/run/docker.sock',
      doc: 'Engine endpoint: unix:///path/to/docker.sock or tcp://127.0.0.1:2375.',
    },
    timeout: { kind: 'duration', default: '10s', min: 100, doc: 'Limit for one Docker API call.' },
  },
  // Checked here, so a relative unix:// path is reported with the rest of the configuration, not thrown at run time.
  check(values, issues) {
    try {
      parseDockerHost(String(values.host));
    } catch (err) {
      issues.add(
        'docker.host',
        (err as Error).message,
        'write unix:///absolute/path/docker.sock, or tcp://HOST:PORT (http:// and https:// too)',
      );
    }
  },
};

export const sharedSections: readonly ConfigSection[] = [logSection, gpuSection, dockerSection];
