import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { findFreePort } from './find-free-port.js';
import { startProcess, type ProcessHandle } from './start-process.js';
import { waitForUrl } from './wait-for-url.js';

export interface HttpDaemonSpec {
  /** For messages: "prometheus", "alertmanager". */
  name: string;
  binary: string;
  /** The daemon's main config (YAML text or an object), written to DIR/<configName>. */
  config: string | Record<string, unknown>;
  configName: string;
  /** More files for DIR (rule files, targets), by file name. */
  files?: Record<string, string | Record<string, unknown>>;
  /** The command line, given the port and the daemon's own folder. */
  args: (port: number, dir: string, configPath: string) => string[];
  readyPath: string;
  /** Where the daemon's folder is made; default the OS temp dir. */
  parentDir?: string;
  readyTimeoutMs?: number;
}

export interface HttpDaemonHandle {
  /** http://127.0.0.1:PORT, no trailing slash. */
  url: string;
  port: number;
  /** The daemon's own folder (config, files, data); removed by stop(). */
  dir: string;
  configPath: string;
  process: ProcessHandle;
  /** Writes (or rewrites) a file in the daemon's folder, e.g. before reload(). */
  writeFile(name: string, content: string | Record<string, unknown>): Promise<string>;
  /** POST /-/reload after changing files. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

const toText = (content: string | Record<string, unknown>) =>
  typeof content === 'string' ? content : stringify(content);

/** Starts a Prometheus-style daemon (HTTP API, /-/ready, /-/reload) on a free 127.0.0.1 port in its own folder. */
export async function startHttpDaemon(spec: HttpDaemonSpec): Promise<HttpDaemonHandle> {
  const dir = await mkdtemp(join(spec.parentDir ?? tmpdir(), `sentinel-${spec.name}-`));
  const write = async (name: string, content: string | Record<string, unknown>) => {
    const path = join(dir, name);
    await writeFile(path, toText(content));
    return path;
  };
  let proc: ProcessHandle | undefined;
  try {
    const configPath = await write(spec.configName, spec.config);
    for (const [name, content] of Object.entries(spec.files ?? {})) await write(name, content);
    const port = await findFreePort();
    const url = `http://127.0.0.1:${port}`;
    const started = startProcess(spec.binary, spec.args(port, dir, configPath), { cwd: dir });
    proc = started;
    const exitedEarly = started.exited.then((exit) => {
      throw new Error(
        `${spec.name} exited during start-up (${exit.error?.message ?? exit.signal ?? `code ${exit.code}`})`,
      );
    });
    exitedEarly.catch(() => {}); // exits after start-up are the test's business, not an unhandled rejection
    await Promise.race([waitForUrl(`${url}${spec.readyPath}`, spec.readyTimeoutMs ?? 30_000), exitedEarly]);
    return {
      url,
      port,
      dir,
      configPath,
      process: started,
      writeFile: write,
      async reload() {
        const response = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
        if (!response.ok) throw new Error(`${spec.name} reload: HTTP ${response.status} ${await response.text()}`);
      },
      async stop() {
        await started.stop({ graceMs: 5000 });
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    const output = proc ? `\n--- ${spec.name} output ---\n${proc.output().slice(-4000)}` : '';
    await proc?.stop({ graceMs: 1000 });
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}${output}`, { cause: error });
  }
}
