// Run as its own process by the instance-lock tests: waits until the time in argv[3] (ms since the epoch, so several
// of these start together), takes the remediator's instance lock on the data_dir in argv[2], prints one JSON line
// ({won: true} or {won: false, error}) and holds the lock for argv[4] ms.
import { acquireInstanceLock } from '../../remediator/state/instance-lock.js';

const [dir, startAt, holdMs] = process.argv.slice(2);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
await sleep(Number(startAt) - Date.now());
try {
  const lock = await acquireInstanceLock(dir!);
  process.stdout.write(`${JSON.stringify({ won: true, pid: process.pid })}\n`);
  await sleep(Number(holdMs));
  await lock.release();
} catch (err) {
  process.stdout.write(`${JSON.stringify({ won: false, error: (err as Error).message })}\n`);
}
