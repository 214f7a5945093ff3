import { mkdir, readdir, readFile, rm, rmdir, writeFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { startProcess, type ProcessHandle } from './start-process.js';
import { waitFor } from './wait-for.js';

/** A Docker Engine of its own beside the test environment's, and an image made from the host's /usr. */
export interface SecondDockerd {
  readonly docker: Docker;
  readonly socket: string;
  /** Every container's cgroup lives under this parent (cgroupfs driver: `<dockerd's cgroup>/<parent>/<id>`). */
  readonly cgroupParent: string;
  /** An image of empty mount points and the merged-/usr symlinks: run it with the host's /usr bound read-only. */
  readonly image: string;
  /** Removes its containers, stops it, kills whatever survived in its cgroups, unmounts and deletes `dir`. */
  stop(): Promise<void>;
}

const IMAGE = 'sentinel-second-usr:test';

/**
 * Starts `dockerd` on a private socket with its own data and exec roots under `dir`, no bridge, no iptables, no
 * swarm and its own --cgroup-parent (the way ../shared/reference/test-environment.md runs a private daemon), so it
 * and the test environment's daemon know nothing of each other's containers, as with rootless Docker, Docker-in-
 * Docker or a second engine on one host. `stop()` is safe to call after a failed start and more than once.
 */
export async function startSecondDockerd(dir: string, tag: string): Promise<SecondDockerd> {
  await mkdir(dir, { recursive: true });
  const socket = join(dir, 'd.sock');
  // Ends in /docker like Docker's own default and a Docker-in-Docker's: containers sit in `.../docker/<id>`.
  const cgroupName = `sentinel-${tag}`;
  const cgroupParent = `${cgroupName}/docker`;
  await writeFile(join(dir, 'daemon.json'), '{}\n');
  let daemon: ProcessHandle | undefined;
  const docker = new Docker({
    socketPath: socket,
    host: undefined,
    port: undefined,
    protocol: undefined,
    timeout: 30_000,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await removeContainers(docker).catch(() => undefined);
    if (daemon?.pid !== undefined && daemon.running()) {
      // dockerd alone first, so it stops its containerd itself; then whatever is left of its process group.
      process.kill(daemon.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([daemon.exited, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
      clearTimeout(timer);
    }
    await daemon?.stop({ graceMs: 1_000 });
    await killCgroup(cgroupName);
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    daemon = startProcess('dockerd', [
      ...['--config-file', join(dir, 'daemon.json'), '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'x')],
      ...['-H', `unix://${socket}`, '--pidfile', join(dir, 'd.pid'), '--cgroup-parent', cgroupParent],
      ...['--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-masq=false'],
      ...['--shutdown-timeout', '3', '--log-level', 'warn'],
    ]);
    await waitFor(
      async () => {
        if (!daemon!.running()) throw new Error(`dockerd exited: ${daemon!.output().slice(-2000)}`);
        return (await docker.ping()) !== undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: `the second dockerd on ${socket}` },
    );
    await importUsrImage(join(dir, 'rootfs'), socket);
    return { docker, socket, cgroupParent, image: IMAGE, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A root file system of mount points and the symlinks of a merged-/usr Debian: `tar | docker import`. */
async function importUsrImage(rootfs: string, socket: string): Promise<void> {
  for (const d of ['usr', 'proc', 'sys', 'dev', 'tmp', 'etc', 'opt', 'root'])
    await mkdir(join(rootfs, d), { recursive: true });
  for (const l of ['bin', 'sbin', 'lib', 'lib64']) await symlink(`usr/${l}`, join(rootfs, l));
  const tar = execa('tar', ['-C', rootfs, '-c', '.'], { encoding: 'buffer' });
  await execa('docker', ['import', '-', IMAGE], {
    env: { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(rootfs, '..', 'cli'), DOCKER_CLI_HINTS: 'false' },
    input: (await tar).stdout,
    timeout: 60_000,
  });
}

async function removeContainers(docker: Docker): Promise<void> {
  const all = await docker.listContainers({ all: true });
  await Promise.all(
    all.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

/** Every cgroup directory named `parent` (Docker nests it under its own cgroup per hierarchy), deepest first. */
async function cgroupDirs(parent: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      if (e.name === parent) found.push(p);
      else if (depth < 5) await walk(p, depth + 1);
    }
  };
  await walk('/sys/fs/cgroup', 0);
  return found;
}

/** What survived a daemon that did not stop its containers: killed, then the cgroups removed (children first). */
async function killCgroup(parent: string): Promise<void> {
  for (const top of await cgroupDirs(parent)) {
    const dirs: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true }).catch(() => []))
        if (e.isDirectory()) await walk(join(d, e.name));
      dirs.push(d);
    };
    await walk(top);
    for (const d of dirs) {
      const pids = (await readFile(join(d, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const d of dirs)
      await waitFor(() => rmdir(d).then(() => true), { timeoutMs: 5_000, what: `rmdir ${d}` }).catch(() => undefined);
  }
}

/** overlay and shm mounts a killed daemon may leave under its roots; deepest first, lazily when busy. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`))
    .sort()
    .reverse();
  for (const mp of mounts)
    await execa('umount', [mp], { reject: false }).then((r) =>
      r.exitCode === 0 ? r : execa('umount', ['-l', mp], { reject: false }),
    );
}
