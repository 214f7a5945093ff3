/**
 * Makes simulated processes look like a real Ollama 0.5.8–0.24 in /proc: `<dir>/ollama` is a hard link to (or copy
 * of) the node binary, so /proc/<pid>/exe -> <dir>/ollama and comm = "ollama"; started with cwd = <dir>,
 * `<dir>/ollama runner --model B --port N` makes node run the CommonJS script `<dir>/runner`, and
 * `<dir>/ollama serve` runs `<dir>/serve` (the simulator CLI), giving the real argv shapes.
 */
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface OllamaExecutableDir {
  dir: string;
  /** `<dir>/ollama`; spawn it with cwd = dir. */
  executable: string;
}

export interface PrepareOptions {
  /** Absolute path of ollama-sim-main.js as seen by the processes that will run (e.g. inside an image). */
  simMainPath?: string;
  /** Node binary to link (default: the running one). */
  nodePath?: string;
}

// The runner: listens on --port (GET /health), exits on SIGTERM/SIGINT and when its parent dies, like a real
// runner whose server went away (it must never outlive a test).
const RUNNER_SCRIPT = `'use strict';
const http = require('node:http');
const args = process.argv.slice(2);
const port = Number(args[args.indexOf('--port') + 1]);
const parent = process.ppid;
const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ status: 'ok', progress: 1 }));
    return;
  }
  res.statusCode = 404;
  res.end();
});
server.on('error', (err) => { process.stderr.write('runner: ' + err.message + '\\n'); process.exit(1); });
server.listen(port, '127.0.0.1', () => { process.stdout.write('runner listening on 127.0.0.1:' + port + '\\n'); });
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 200);
`;

function serveScript(simMainPath: string): string {
  return `'use strict';
// \`ollama serve\`: the simulator CLI; runners are spawned from this same folder.
process.env.SENTINEL_SIM_EXECUTABLE_DIR = __dirname;
import(require('node:url').pathToFileURL(${JSON.stringify(simMainPath)}).href).catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\\n');
  process.exit(1);
});
`;
}

// \`ollama list\`: the usual compose healthcheck (exit 1 when the server does not answer).
const LIST_SCRIPT = `'use strict';
const raw = process.env.OLLAMA_HOST || '127.0.0.1:11434';
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
  return { dir, executable };
}
