/**
 * Makes simulated processes look like a real Ollama 0.5.8–0.24 in /proc: `<dir>/ollama` is a hard link to (or copy
 * of) the node binary, so /proc/<pid>/exe -> <dir>/ollama and comm = "ollama"; started with cwd = <dir>,
 * `<dir>/ollama runner --model B --port N` makes node run the CommonJS script `<dir>/runner`, and
 * `<dir>/ollama serve` runs `<dir>/serve` (the simulator CLI), giving the real argv shapes. For the 0.30+ tree it also
 * installs the fake llama-server (a C program) as `<dir>/lib/ollama/llama-server`, where Ollama finds it on Linux
 * (ml/path.go libOllamaPathCandidates: `<exe dir>/lib/ollama` is a candidate), and `<dir>/gpu-discover` for
 * `<dir>/ollama gpu-discover --lib-dir ...` (test/sim/sim-runner.ts spawns them).
 */
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXEC_NAME_PRELUDE } from './exec-name-prelude.js';
import { fakeLlamaServerBinary } from './fake-llama-server-binary.js';

export interface OllamaExecutableDir {
  dir: string;
  /** `<dir>/ollama`; spawn it with cwd = dir. */
  executable: string;
  /** `<dir>/lib/ollama/llama-server`, or undefined when the fake could not be built (no `cc`): 0.12 still works. */
  llamaServer: string | undefined;
}

export interface PrepareOptions {
  /** Absolute path of ollama-sim-main.js as seen by the processes that will run (e.g. inside an image). */
  simMainPath?: string;
  /** Node binary to link (default: the running one). */
  nodePath?: string;
}

// The runner (`ollama runner --model B --port N`, 0.5.8-0.2x) and, without --model, the GPU discovery runner that
// 0.12.5+ starts as `ollama runner --ollama-engine --port N` (discover/runner.go bootstrapDevices). It listens on
// --port (GET /health; POST /_activity from 127.0.0.1 = the simulator's control), exits on SIGTERM/SIGINT, when its
// parent dies (like a real runner whose server went away: it must never outlive a test) and after
// SENTINEL_FAKE_LIFETIME_MS. Activities as in fake-runner/fake-llama-server.c: generating/spinning burn ~20 % of a
// core, loading burns ~5 %, grows RSS by 4 MiB per tick up to 64 MiB and read()s 1 MiB per tick; idle/hung do nothing.
const RUNNER_SCRIPT = `${EXEC_NAME_PRELUDE}const fs = require('node:fs');
const http = require('node:http');
const args = process.argv.slice(2);
const arg = (name) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : undefined);
const model = arg('--model');
const port = Number(arg('--port'));
const parent = process.ppid;
const started = Date.now();
const lifetime = Number(process.env.SENTINEL_FAKE_LIFETIME_MS || 0);
const ACTIVITIES = ['idle', 'loading', 'generating', 'hung', 'spinning'];
let activity = ACTIVITIES.includes(process.env.SENTINEL_FAKE_ACTIVITY) ? process.env.SENTINEL_FAKE_ACTIVITY : model ? 'loading' : 'idle';
const blocks = [];
const readBuf = Buffer.alloc(1 << 20);
function burn(ms) {
  const cpu0 = process.cpuUsage();
  const wall0 = Date.now();
  let x = 0;
  for (;;) {
    const used = process.cpuUsage(cpu0);
    if ((used.user + used.system) / 1000 >= ms || Date.now() - wall0 >= 4 * ms) break;
    for (let i = 0; i < 10000; i++) x = (x + i * 2654435761) % 4294967296;
  }
  return x;
}
function loadStep() {
  if (blocks.length < 16) blocks.push(Buffer.alloc(4 << 20, 1));
  let fd;
  try { fd = fs.openSync(model && fs.existsSync(model) ? model : '/dev/zero', 'r'); fs.readSync(fd, readBuf, 0, readBuf.length, null); } catch {}
  if (fd !== undefined) fs.closeSync(fd);
}
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  if (req.method === 'GET' && req.url === '/health') {
    res.end(JSON.stringify({ status: 'ok', progress: activity === 'loading' ? 0.5 : 1 }));
    return;
  }
  if (req.method === 'POST' && req.url === '/_activity') {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const local = /^(::ffff:)?127\\.0\\.0\\.1$/.test(req.socket.remoteAddress || '');
      const next = body.trim();
      if (!local) { res.statusCode = 403; res.end('{"error":"forbidden"}'); return; }
      if (!ACTIVITIES.includes(next)) { res.statusCode = 400; res.end('{"error":"unknown activity"}'); return; }
      activity = next;
      res.end('{"ok":true}');
    });
    return;
  }
  res.statusCode = 404;
  res.end('{"error":"not found"}');
});
server.on('error', (err) => { process.stderr.write('runner: ' + err.message + '\\n'); process.exit(1); });
if (port > 0) server.listen(port, '127.0.0.1', () => { process.stdout.write('runner listening on 127.0.0.1:' + port + '\\n'); });
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => {
  if (process.ppid !== parent || (lifetime > 0 && Date.now() - started >= lifetime)) process.exit(0);
  if (activity === 'generating' || activity === 'spinning') burn(20);
  if (activity === 'loading') { burn(5); loadStep(); }
}, 100);
`;

// `ollama gpu-discover --lib-dir D...` (0.30+, discover/native_probe.go discoverNativeDevices): prints the device
// JSON on stdout; lives SENTINEL_FAKE_LIFETIME_MS (default 1 s), exits early when its parent dies.
const GPU_DISCOVER_SCRIPT = `${EXEC_NAME_PRELUDE}const parent = process.ppid;
const started = Date.now();
const lifetime = Number(process.env.SENTINEL_FAKE_LIFETIME_MS || 1000);
process.stdout.write(JSON.stringify({ devices: [{ library: 'CUDA', index: 0, name: 'NVIDIA H100 80GB HBM3' }] }) + '\\n');
process.on('SIGTERM', () => process.exit(0));
const tick = setInterval(() => {
  if (process.ppid !== parent || Date.now() - started >= lifetime) { clearInterval(tick); process.exit(0); }
}, 50);
`;

function serveScript(simMainPath: string): string {
  return `${EXEC_NAME_PRELUDE}// \`ollama serve\`: the simulator CLI; runners are spawned from this same folder.
process.env.SENTINEL_SIM_EXECUTABLE_DIR = __dirname;
import(require('node:url').pathToFileURL(${JSON.stringify(simMainPath)}).href).catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\\n');
  process.exit(1);
});
`;
}

// \`ollama list\`: the usual compose healthcheck (exit 1 when the server does not answer).
const LIST_SCRIPT = `${EXEC_NAME_PRELUDE}const raw = process.env.OLLAMA_HOST || '127.0.0.1:11434';
const m = /^(?:(https?):\\/\\/)?([^:/]*)(?::(\\d+))?/.exec(raw);
const host = !m[2] || m[2] === '0.0.0.0' ? '127.0.0.1' : m[2];
const url = (m[1] || 'http') + '://' + host + ':' + (m[3] || '11434') + '/api/tags';
fetch(url, { signal: AbortSignal.timeout(5000) }).then((r) => r.json()).then((body) => {
  process.stdout.write('NAME'.padEnd(40) + 'ID              SIZE      MODIFIED\\n');
  for (const x of body.models || []) {
    process.stdout.write(x.name.padEnd(40) + x.digest.slice(0, 12) + '    ' + (x.size / 1e9).toFixed(1) + ' GB    recently\\n');
  }
}).catch(() => {
  process.stderr.write('Error: could not connect to ollama server, run \\'ollama serve\\' to start it\\n');
  process.exit(1);
});
`;

export function defaultSimMainPath(): string {
  return fileURLToPath(new URL('./ollama-sim-main.js', import.meta.url));
}

export function prepareOllamaExecutableDir(dir: string, opts: PrepareOptions = {}): OllamaExecutableDir {
  mkdirSync(dir, { recursive: true });
  const executable = join(dir, 'ollama');
  const nodePath = opts.nodePath ?? process.execPath;
  if (!existsSync(executable) || statSync(executable).size !== statSync(nodePath).size) {
    try {
      linkSync(nodePath, executable);
    } catch {
      copyFileSync(nodePath, executable); // another filesystem: a copy behaves the same
      chmodSync(executable, 0o755);
    }
  }
  writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}\n');
  writeFileSync(join(dir, 'runner'), RUNNER_SCRIPT);
  writeFileSync(join(dir, 'serve'), serveScript(opts.simMainPath ?? defaultSimMainPath()));
  writeFileSync(join(dir, 'list'), LIST_SCRIPT);
  writeFileSync(join(dir, 'gpu-discover'), GPU_DISCOVER_SCRIPT);
  let llamaServer: string | undefined;
  try {
    llamaServer = installFakeLlamaServer(dir);
  } catch {
    llamaServer = undefined; // only the 0.30+ profile needs it; sim-runner.ts reports why when it is asked for
  }
  return { dir, executable, llamaServer };
}

export function llamaServerPath(dir: string): string {
  return join(dir, 'lib', 'ollama', 'llama-server');
}

/**
 * `<dir>/lib/ollama/llama-server`: a hard link to (or copy of) the fake llama-server binary, so /proc/<pid>/exe is
 * that path. Also `lib/ollama/cuda_v13/`, the GPU library folder discovery names with --lib-dir. Returns the path.
 */
export function installFakeLlamaServer(dir: string, binary: string = fakeLlamaServerBinary()): string {
  const target = llamaServerPath(dir);
  mkdirSync(join(dir, 'lib', 'ollama', 'cuda_v13'), { recursive: true });
  if (existsSync(target) && statSync(target).ino === statSync(binary).ino) return target;
  try {
    unlinkSync(target); // an older build (a running runner keeps its own inode)
  } catch {
    // not there yet
  }
  try {
    linkSync(binary, target);
  } catch {
    copyFileSync(binary, target);
    chmodSync(target, 0o755);
  }
  return target;
}
