/**
 * Version gates for behaviour that changed between Ollama releases. A version that does not parse (a dev build,
 * "0.0.0", null) is judged by the newest behaviour known, because that is what unknown builds are most likely to be.
 */
export type VersionTriple = readonly [number, number, number];

/** "0.33.0-rc2" -> [0, 33, 0]; null when it does not start with three numbers. */
export function parseOllamaVersion(version: string | null | undefined): VersionTriple | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec((version ?? '').trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** Whether `version` is at least `min`; unknown versions count as new (see above). */
export function versionAtLeast(version: string | null | undefined, min: VersionTriple): boolean {
  const v = parseOllamaVersion(version);
  if (v === null || (v[0] === 0 && v[1] === 0 && v[2] === 0)) return true;
  for (let i = 0; i < 3; i++) if (v[i] !== min[i]) return v[i]! > min[i]!;
  return true;
}

/**
 * From 0.32.4 (commit 6cd40001a, "fix ps data race") /api/ps takes each runner's refMu, which a loading runner holds
 * until it runs or fails (server/sched.go loadedModels / load): /api/ps does not answer during a cold load. Before,
 * it listed the loading model with its planned size_vram.
 */
export function psBlocksDuringLoad(version: string | null | undefined): boolean {
  return versionAtLeast(version, [0, 32, 4]);
}
