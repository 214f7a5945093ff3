/**
 * What makes the image's SBOM trustworthy: a CycloneDX JSON document of this package at this version that lists
 * every runtime dependency of package.json at its locked version and no package that only development needs.
 * build-local-image.sh and test/checks/40-local-image.sh run it through check-sbom-main.ts.
 */

interface LockEntry {
  readonly name?: string;
  readonly version?: string;
  readonly dev?: boolean;
}

export interface SbomInputs {
  /** The parsed SBOM (output of `npm sbom --sbom-format cyclonedx --omit dev`). */
  readonly sbom: unknown;
  /** The parsed package.json and package-lock.json it should describe. */
  readonly packageJson: {
    readonly name: string;
    readonly version: string;
    readonly dependencies?: object;
    readonly devDependencies?: object;
  };
  readonly packageLock: { readonly packages?: Readonly<Record<string, LockEntry>> };
}

export interface SbomReport {
  /** Every problem found, each saying what is wrong and how to fix it; empty when the SBOM is right. */
  readonly errors: readonly string[];
  readonly components: number;
  /** name@version of each runtime dependency of package.json found in the SBOM. */
  readonly runtime: readonly string[];
}

const REGENERATE = 'regenerate it with `npm sbom --sbom-format cyclonedx --omit dev` in a full install (npm ci)';

export function checkSbom({ sbom, packageJson, packageLock }: SbomInputs): SbomReport {
  const errors: string[] = [];
  const doc = (typeof sbom === 'object' && sbom !== null ? sbom : {}) as Record<string, unknown>;
  if (doc.bomFormat !== 'CycloneDX')
    errors.push(
      `bomFormat is ${JSON.stringify(doc.bomFormat)}, not "CycloneDX": not a CycloneDX JSON SBOM; ${REGENERATE}`,
    );
  if (typeof doc.specVersion !== 'string' || !/^1\.\d+$/.test(doc.specVersion))
    errors.push(`specVersion ${JSON.stringify(doc.specVersion)} is not a CycloneDX 1.x version; ${REGENERATE}`);
  const subject = (doc.metadata as { component?: { purl?: unknown } } | undefined)?.component?.purl;
  const ownPurl = purl(packageJson.name, packageJson.version);
  if (subject !== ownPurl)
    errors.push(
      `metadata.component.purl is ${JSON.stringify(subject)}, not ${ownPurl}: the SBOM is of another package or version; ${REGENERATE}`,
    );
  if (!Array.isArray(doc.components)) {
    errors.push(`components is missing or not a list; ${REGENERATE}`);
    return { errors, components: 0, runtime: [] };
  }
  const listed = new Set(
    (doc.components as { purl?: unknown }[]).map((c) => c.purl).filter((p): p is string => typeof p === 'string'),
  );

  const packages = packageLock.packages ?? {};
  const runtime: string[] = [];
  for (const name of Object.keys(packageJson.dependencies ?? {})) {
    const version = packages[`node_modules/${name}`]?.version;
    if (version === undefined) {
      errors.push(`package-lock.json has no node_modules/${name}: run npm install, then ${REGENERATE}`);
    } else if (!listed.has(purl(name, version))) {
      errors.push(
        `runtime dependency ${name}@${version} is missing: the SBOM does not describe what ships; ${REGENERATE}`,
      );
    } else runtime.push(`${name}@${version}`);
  }

  // Dev-only: locked only with dev: true. A name@version that production also locks is rightly listed.
  const prod = new Set<string>();
  const devOnly = new Map<string, string>();
  for (const [path, entry] of Object.entries(packages)) {
    if (path === '' || entry.version === undefined) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const p = purl(name, entry.version);
    if (entry.dev) devOnly.set(p, `${name}@${entry.version}`);
    else prod.add(p);
  }
  // Direct dev dependencies (typescript, eslint) first: the names a reader recognises.
  const direct = new Set(Object.keys(packageJson.devDependencies ?? {}));
  const dev = [...devOnly]
    .filter(([p]) => listed.has(p) && !prod.has(p))
    .map(([, id]) => id)
    .sort(
      (a, b) => Number(direct.has(b.slice(0, b.lastIndexOf('@')))) - Number(direct.has(a.slice(0, a.lastIndexOf('@')))),
    );
  if (dev.length > 0)
    errors.push(
      `lists ${dev.length} development-only package(s) (${dev.slice(0, 5).join(', ')}${dev.length > 5 ? ', ...' : ''}): the image does not ship them; regenerate with --omit dev`,
    );
  return { errors, components: doc.components.length, runtime };
}

/** The package URL npm sbom writes: pkg:npm/<name with @ escaped>@<version>. */
function purl(name: string, version: string): string {
  return `pkg:npm/${name.replace('@', '%40')}@${version}`;
}
