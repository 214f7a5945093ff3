import { randomBytes } from 'node:crypto';
import { link, open, unlink, type FileHandle } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Who holds the lock, as the holder itself tells whoever connects. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  readonly startedAt: string;
}

export interface InstanceLock {
  release(): Promise<void>;
}

/** Another live remediator holds the data_dir. */
export class InstanceLockedError extends Error {
  override readonly name = 'InstanceLockedError';
  constructor(
    dir: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(
      `another remediator uses ${dir}: ${describeHolder(holder)}; stop it or give this one another remediator.data_dir`,
    );
  }
}

export function describeHolder(holder: LockHolder | undefined): string {
  return holder
    ? `pid ${holder.pid} on host ${JSON.stringify(holder.hostname)}, running since ${holder.startedAt}`
    : 'a live process that did not say who it is within 1 s (stopped or busy)';
}

export const LOCK_SOCKET = 'remediator.lock';
const TAKEOVER_SOCKET = 'remediator.lock.takeover';
const ANSWER_TIMEOUT_MS = 1000;

/**
 * One remediator per data_dir: two would both replay the journal and act twice. The lock is a Unix socket listening
 * in data_dir, so the kernel releases it with the process, whatever happened to it; no PID is trusted (a stale PID may
 * belong to any process after a reboot, and one in another container's PID namespace is invisible). It works between
 * containers that share data_dir without sharing PIDs, as long as they share a kernel (a data_dir shared between hosts
 * over NFS is not supported). Whoever connects gets the holder's pid, host name and start time.
 *
 * Start-up: a socket is made listening under a name of its own, then hard-linked to the lock's name (link(2) fails
 * if that exists), so the lock never appears before it listens: bound straight to the lock's name, it would refuse
 * connections between bind() and listen() and pass for a dead holder's (seen in CI: two starters both won). If the
 * name exists, connect: an answer means a live holder (refuse, naming it); ECONNREFUSED means its holder died (stale).
 * A stale socket is removed only while holding a second socket made the same way, the takeover guard, and only after
 * being seen stale again, so two starters never remove each other's fresh socket: exactly one takes the lock.
 */
export async function acquireInstanceLock(dir: string, me: LockHolder = selfIdentity()): Promise<InstanceLock> {
  const at = await socketPaths(dir);
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      const server = await listenLinked(at, LOCK_SOCKET);
      if (server) {
        server.on('connection', (c) => c.on('error', () => undefined).end(`${JSON.stringify(me)}\n`));
        server.unref(); // the lock never keeps the process alive
        // 0.1.0's pid file: it only ever misled (a stale PID may be any process); the socket says who holds the lock.
        await unlinkIfThere(join(dir, 'remediator.pid'));
        return {
          release: async () => {
            // Unlinked while still listening: a starter meanwhile finds the name gone or live, never a stale socket
            // it would remove after a new holder linked its own.
            await unlinkIfThere(at.path(LOCK_SOCKET));
            await new Promise((resolve) => server.close(resolve));
            await at.close();
          },
        };
      }
      const seen = await ask(at.path(LOCK_SOCKET));
      if (seen.state === 'live') throw new InstanceLockedError(dir, seen.holder);
      if (seen.state === 'stale') await removeStale(at);
      // 'gone': released between bind and connect; try again.
    }
    throw new Error(`cannot take the lock ${join(dir, LOCK_SOCKET)}: it kept changing hands`);
  } catch (err) {
    await at.close();
    throw err;
  }
}

/** The live holder of the data_dir's lock, or undefined when none runs (used by --reset-breaker). */
export async function findLockHolder(dir: string): Promise<{ holder: LockHolder | undefined } | undefined> {
  const at = await socketPaths(dir);
  try {
    const seen = await ask(at.path(LOCK_SOCKET));
    return seen.state === 'live' ? { holder: seen.holder } : undefined;
  } finally {
    await at.close();
  }
}

function selfIdentity(): LockHolder {
  return { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
}

async function removeStale(at: SocketPaths): Promise<void> {
  const guard = await listenLinked(at, TAKEOVER_SOCKET);
  if (!guard) {
    // Another starter is taking over (wait for it), or one died doing so (a few milliseconds' window): remove its guard.
    if ((await ask(at.path(TAKEOVER_SOCKET))).state === 'stale') await unlinkIfThere(at.path(TAKEOVER_SOCKET));
    else await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
    return;
  }
  try {
    // With the guard held nobody else removes the lock socket, and a new one cannot be bound while this one exists:
    // seen stale now, it is still the dead one when unlinked.
    if ((await ask(at.path(LOCK_SOCKET))).state === 'stale') await unlinkIfThere(at.path(LOCK_SOCKET));
  } finally {
    await unlinkIfThere(at.path(TAKEOVER_SOCKET));
    await new Promise((resolve) => guard.close(resolve));
  }
}

export type Seen = { state: 'live'; holder: LockHolder | undefined } | { state: 'stale' } | { state: 'gone' };

/** Connects to a lock socket: live (with what the holder says), stale (nobody listens) or gone. */
function ask(path: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let text = '';
    let connected = false;
    const done = (seen: Seen) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(seen);
    };
    const parse = (): LockHolder | undefined => {
      try {
        const h = JSON.parse(text) as LockHolder;
        return typeof h.pid === 'number' && typeof h.hostname === 'string' ? h : undefined;
      } catch {
        return undefined;
      }
    };
    // Connected but silent (a stopped holder: the kernel still accepts) is live all the same.
    const timer = setTimeout(() => done({ state: 'live', holder: undefined }), ANSWER_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('connect', () => (connected = true));
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => done({ state: 'live', holder: parse() }));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const seen = connected ? ({ state: 'live', holder: parse() } as const) : seenOnConnectError(err.code);
      if (seen) return done(seen);
      clearTimeout(timer);
      reject(new Error(`cannot check the lock ${path}: ${err.code ?? err.message}`));
    });
  });
}

/**
 * What a failed connect to a lock socket says, or undefined for an error that says nothing about the holder.
 * ECONNRESET: the listener closed while this connection waited in its backlog (another starter releasing its takeover
 * guard, a holder exiting) = gone, look again. EAGAIN: the backlog is full = somebody listens.
 */
export function seenOnConnectError(code: string | undefined): Seen | undefined {
  switch (code) {
    case 'ECONNREFUSED':
      return { state: 'stale' };
    case 'ENOENT':
    case 'ECONNRESET':
      return { state: 'gone' };
    case 'EAGAIN':
      return { state: 'live', holder: undefined };
    default:
      return undefined;
  }
}

/**
 * A server listening on a socket published as `name` only once it listens: made under a unique name, hard-linked to
 * `name` (a socket is found by its inode, so either name reaches it), the unique name then removed. Undefined when
 * `name` is taken.
 */
async function listenLinked(at: SocketPaths, name: string): Promise<Server | undefined> {
  const own = at.path(`${name}.${randomBytes(4).toString('hex')}`);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`cannot create the lock socket ${own}: ${err.code ?? err.message}`, { cause: err })),
    );
    server.listen(own, resolve);
  });
  try {
    await link(own, at.path(name));
    return server;
  } catch (err) {
    await new Promise((resolve) => server.close(resolve));
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw new Error(`cannot take the lock socket ${at.path(name)}: ${(err as NodeJS.ErrnoException).code ?? err}`, {
      cause: err,
    });
  } finally {
    await unlinkIfThere(own);
  }
}

async function unlinkIfThere(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

interface SocketPaths {
  path(name: string): string;
  close(): Promise<void>;
}

/** Linux socket addresses hold 107 bytes and longer ones are cut silently: a long data_dir goes via /proc/self/fd. */
async function socketPaths(dir: string): Promise<SocketPaths> {
  const longest = join(dir, `${TAKEOVER_SOCKET}.12345678`); // listenLinked's own names
  if (Buffer.byteLength(longest) <= 107) return { path: (name) => join(dir, name), close: async () => undefined };
  const handle: FileHandle = await open(dir, 'r');
  return { path: (name) => `/proc/self/fd/${handle.fd}/${name}`, close: () => handle.close() };
}
