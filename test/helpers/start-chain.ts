import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { stringify } from 'yaml';
import { renderFastRules, type FastMonitoringOptions } from '../../deploy/demo/render-fast-rules.js';
import type { ContainerSelector, ModelConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import { findFreePort } from './find-free-port.js';
import type { TestEnv } from './read-test-env.js';
import { startAlertmanager } from './start-alertmanager.js';
import type { HttpDaemonHandle } from './start-http-daemon.js';
import { startProcess, type ProcessHandle } from './start-process.js';
import { startPrometheus } from './start-prometheus.js';
import { waitForUrl } from './wait-for-url.js';

/** dist/test/helpers/ -> the checkout whose dist/ holds the binary. */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO, 'dist', 'shared', 'cli', 'main.js');
const FAKE_SMI = join(REPO, 'test', 'sim', 'bin', 'nvidia-smi');
/** Runs the simulator as `ollama serve` (see the script), shared with the demo. */
const SIM_ENTRYPOINT = join(REPO, 'deploy', 'demo', 'sim-entrypoint.sh');

export interface ChainOptions {
  /** Unique per run: names the Compose project, the container and the scratch folder. */
  readonly tag: string;
  /** The model the simulator has (as if on its volume) and the exporter keeps warm. */
  readonly model: string;
  readonly rules: FastMonitoringOptions;
  /** Remediator settings on top of the chain's own (e.g. a shorter cooldown when several cases restart the target). */
  readonly remediator?: Readonly<Record<string, unknown>>;
  /** Exporter settings on top of the chain's own. */
  readonly exporter?: Readonly<Record<string, unknown>>;
  /** More configured models (config `models:` entries), also on the simulator's volume. */
  readonly extraModels?: readonly Readonly<Record<string, unknown> & { name: string }>[];
  /** Simulator flags after the chain's own (e.g. `--version 0.33.0`, `--load-delay-ms 20000`). */
  readonly simArgs?: readonly string[];
}

export interface Chain {
  readonly target: OllamaTargetConfig & { readonly container: ContainerSelector };
  readonly model: ModelConfig;
  readonly containerId: string;
  readonly exporterUrl: string;
  readonly remediatorDataDir: string;
  readonly prometheus: HttpDaemonHandle;
  readonly alertmanager: HttpDaemonHandle;
  /** The last lines of every process's output and the container log, for failure messages. */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The whole product on the test environment, every part real: the simulator image as a Compose-labelled container
 * (host network, host PID namespace, the fake GPU state folder mounted), the exporter and the remediator as the
 * real binary, Prometheus with the generated rules (fast variant) and Alertmanager routing remediate="true" to the
 * remediator with bearer auth. Short intervals everywhere so a case takes well under a minute.
 * Whatever started before a failure is stopped again before the error propagates.
 */
export async function startChain(env: TestEnv, docker: Docker, opts: ChainOptions): Promise<Chain> {
  const dir = join(env.tmpDir, opts.tag);
  const gpuDir = join(dir, 'gpu');
  const dataDir = join(dir, 'remediator');
  const volumeDir = join(dir, 'ollama');
  await mkdir(gpuDir, { recursive: true });
  await mkdir(volumeDir, { recursive: true });
  // The models "on the Ollama volume": the simulator starts with them every time, so a restart keeps them.
  await writeFile(join(volumeDir, 'models'), [opts.model, ...(opts.extraModels ?? []).map((m) => m.name)].join(','));
  await mkdir(dataDir, { recursive: true });
  // One idle H100 without processes: the simulator writes its runners' lines as they load.
  await writeFile(
    join(gpuDir, 'gpu.state'),
    [
      'driver 580.159.04 13.0',
      'gpu 0 GPU-f88d2996-314d-4abe-0c94-acc6aa417694 00000000:00:06.0 81559 480 0 0 0 37 94.33 700.00 700.00 345 P0 0 0x0000000000000001 0 NVIDIA H100 80GB HBM3',
      'container_nvml_lost 0',
      '',
    ].join('\n'),
  );
  const tokenFile = join(dir, 'remediator-token');
  await writeFile(tokenFile, `e2e-${opts.tag}-${Math.random().toString(36).slice(2)}\n`);
  await chmod(tokenFile, 0o600);
  const processEnv = { ...process.env, SENTINEL_FAKE_GPU_STATE: join(gpuDir, 'gpu.state') };

  const stops: (() => Promise<unknown>)[] = [];
  const procs: Record<string, ProcessHandle> = {};
  let containerId = '';
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
    stops.length = 0;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [simPort, exporterPort, remediatorPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
    const project = opts.tag;
    const container = await docker.createContainer({
      name: `${opts.tag}-ollama-1`,
      Image: env.simImage,
      Entrypoint: ['/bin/sh', '/sim-entrypoint.sh'],
      Cmd: ['--host', '127.0.0.1', '--port', String(simPort), ...(opts.simArgs ?? [])],
      Env: ['SENTINEL_FAKE_GPU_STATE=/gpu/gpu.state', 'SIM_MODELS_FILE=/root/.ollama/models'],
      Labels: {
        'com.docker.compose.project': project,
        'com.docker.compose.service': 'ollama',
        'com.docker.compose.oneoff': 'False',
        'com.docker.compose.container-number': '1',
      },
      // Host PID namespace: runner PIDs in the GPU state are host PIDs, as nvidia-smi reports them on a real host.
      HostConfig: {
        NetworkMode: 'host',
        PidMode: 'host',
        Binds: [`${gpuDir}:/gpu`, `${volumeDir}:/root/.ollama`, `${SIM_ENTRYPOINT}:/sim-entrypoint.sh:ro`],
      },
    });
    containerId = container.id;
    stops.push(() => container.remove({ force: true }));
    await container.start();
    const simUrl = `http://127.0.0.1:${simPort}`;
    await waitForUrl(`${simUrl}/api/version`, 30_000);

    const target = {
      name: 'e2e',
      url: simUrl,
      headers: {},
      container: { kind: 'compose' as const, project, service: 'ollama' },
    };
    const config = {
      log: { level: 'debug' },
      ollama: [{ name: target.name, url: simUrl, container: { compose: { project, service: 'ollama' } } }],
      models: [{ name: opts.model, keep_warm: true }, ...(opts.extraModels ?? [])],
      gpu: { nvidia_smi: FAKE_SMI, interval: '2s', backend: 'nvidia_smi' },
      docker: { host: env.dockerHost },
      exporter: {
        listen_address: `127.0.0.1:${exporterPort}`,
        ollama_interval: '2s',
        probe_interval: '3s',
        containers_interval: '2s',
        ...opts.exporter,
      },
      remediator: {
        listen_address: `127.0.0.1:${remediatorPort}`,
        bearer_token_file: tokenFile,
        data_dir: dataDir,
        exporter_url: `http://127.0.0.1:${exporterPort}`,
        rules: [{ name: 'heal-ollama', match: { remediate: 'true' } }],
        ...opts.remediator,
      },
    };
    const configFile = join(dir, 'sentinel.yaml');
    await writeFile(configFile, stringify(config));

    for (const [name, port, ready] of [
      ['exporter', exporterPort, '/readyz'],
      ['remediator', remediatorPort, '/healthz'],
    ] as const) {
      const p = startProcess(process.execPath, [CLI, name, '--config', configFile], { cwd: REPO, env: processEnv });
      procs[name] = p;
      stops.push(() => p.stop({ graceMs: 10_000 }));
      const exited = p.exited.then((e) => {
        throw new Error(
          `${name} exited during start-up (${e.signal ?? `code ${e.code}`}):\n${p.output().slice(-3000)}`,
        );
      });
      exited.catch(() => {});
      await Promise.race([waitForUrl(`http://127.0.0.1:${port}${ready}`, 60_000), exited]);
    }

    const alertmanager = await startAlertmanager({
      config: {
        route: {
          receiver: 'humans',
          group_by: ['alertname', 'ollama'],
          group_wait: '1s',
          group_interval: '2s',
          repeat_interval: '1h',
          // As deploy/alertmanager/alertmanager.yml routes it.
          routes: [
            { receiver: 'sentinel-remediator', matchers: ['remediate="true"', 'ollama=~".+"'], continue: true },
            { receiver: 'humans' },
          ],
        },
        receivers: [
          { name: 'humans' },
          {
            name: 'sentinel-remediator',
            webhook_configs: [
              {
                url: `http://127.0.0.1:${remediatorPort}/webhook`,
                send_resolved: true,
                max_alerts: 100,
                http_config: { authorization: { type: 'Bearer', credentials_file: tokenFile } },
              },
            ],
          },
        ],
      },
      parentDir: dir,
    });
    stops.push(() => alertmanager.stop());
    const prometheus = await startPrometheus({
      config: {
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        rule_files: ['ollama-sentinel.fast.rules.yml'],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${alertmanager.port}`] }] }] },
        scrape_configs: [{ job_name: 'ollama-sentinel', static_configs: [{ targets: [`127.0.0.1:${exporterPort}`] }] }],
      },
      files: { 'ollama-sentinel.fast.rules.yml': renderFastRules(opts.rules) },
      parentDir: dir,
    });
    stops.push(() => prometheus.stop());

    return {
      target,
      model: { name: opts.model, keep_alive: -1, keep_warm: true, min_vram_ratio: 0.9, options: {}, targets: [] },
      containerId,
      exporterUrl: `http://127.0.0.1:${exporterPort}`,
      remediatorDataDir: dataDir,
      prometheus,
      alertmanager,
      async logs() {
        const parts = Object.entries(procs).map(([name, p]) => `--- ${name} ---\n${p.output().slice(-6000)}`);
        const c = docker.getContainer(containerId);
        const state = await c.inspect().then(
          (i) => JSON.stringify(i.State),
          (e: Error) => e.message,
        );
        const ctr = await c.logs({ stdout: true, stderr: true, tail: 40 }).then(
          (b) => b.toString('utf8'),
          (e: Error) => e.message,
        );
        return [...parts, `--- container ${state} ---\n${ctr}`].join('\n');
      },
      stop,
    };
  } catch (err) {
    const output = Object.entries(procs)
      .map(([name, p]) => `--- ${name} ---\n${p.output().slice(-3000)}`)
      .join('\n');
    await stop();
    throw new Error(`${(err as Error).message}${output ? `\n${output}` : ''}`, { cause: err });
  }
}
