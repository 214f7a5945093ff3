import { errorText } from './error-text.js';

/** Swarm's answer to a stale Version.Index (moby#30794): the update was NOT applied; re-inspect and retry. */
export function isOutOfSequence(err: unknown): boolean {
  return /update out of sequence/i.test(errorText(err));
}
