import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { repoPath } from '../../helpers/repo-path.js';

const dockerfile = readFileSync(repoPath('deploy/image/Dockerfile'), 'utf8');
const script = readFileSync(repoPath('deploy/image/build-local-image.sh'), 'utf8');
/** Instructions of the final stage, continuation lines joined. */
const finalStage = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .filter((l) => !l.startsWith('#'))
  .join('\n')
  .split(/^FROM /m)
  .pop()!;
const instruction = (name: string) => [...finalStage.matchAll(new RegExp(`^${name} (.+)$`, 'gm'))].map((m) => m[1]!);

describe('deploy/image/Dockerfile', () => {
  it('builds on node:24-slim (Node 20 is end of life) and installs production dependencies only in the final image', () => {
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:24-slim$/m);
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.deepEqual(
      instruction('COPY').filter((c) => c.includes('node_modules')),
      ['--from=deps /app/node_modules ./node_modules'],
    );
  });

  it('runs as the node user with the CLI as entrypoint and the exporter as default command', () => {
    assert.deepEqual(instruction('USER'), ['node']);
    assert.deepEqual(
      instruction('ENTRYPOINT').map((e) => JSON.parse(e)),
      [['node', '/app/dist/shared/cli/main.js']],
    );
    assert.deepEqual(
      instruction('CMD').map((e) => JSON.parse(e)),
      [['exporter']],
    );
    // The same file package.json publishes as the `ollama-sentinel` binary.
    const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { bin: Record<string, string> };
    assert.equal(`/app/${pkg.bin['ollama-sentinel']}`, '/app/dist/shared/cli/main.js');
    assert.ok(existsSync(repoPath('shared/cli/main.ts')));
  });

  it('checks health with node (no curl in slim images) on /healthz', () => {
    const hc = instruction('HEALTHCHECK');
    assert.equal(hc.length, 1);
    const cmd = JSON.parse(hc[0]!.replace(/^.*?CMD /, '')) as string[];
    assert.deepEqual(cmd.slice(0, 2), ['node', '-e']);
    assert.match(cmd[2]!, /fetch\(.*\/healthz/);
  });

  it('bakes in no listen address (environment would silently beat the config file)', () => {
    assert.doesNotMatch(finalStage, /SENTINEL_\w*LISTEN_ADDRESS/);
  });

  it('tells users to run it with an init process', () => {
    assert.match(dockerfile, /--init/);
  });
});

describe('deploy/image/Dockerfile build identity', () => {
  it('labels the image as OCI asks, with the version and licence of package.json, and passes the commit on', () => {
    const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string; license: string };
    const labels = Object.fromEntries(
      [
        ...instruction('LABEL')
          .join(' ')
          .matchAll(/([\w.]+)="([^"]*)"/g),
      ].map((m) => [m[1]!, m[2]!]),
    );
    assert.equal(labels['org.opencontainers.image.version'], pkg.version);
    assert.equal(labels['org.opencontainers.image.licenses'], pkg.license);
    assert.equal(labels['org.opencontainers.image.revision'], '${REVISION}');
    assert.equal(labels['org.opencontainers.image.created'], '${CREATED}');
    assert.match(dockerfile, /^ARG CREATED=$/m);
    assert.match(labels['org.opencontainers.image.source'] ?? '', /^https:\/\//);
    // The running program reads the same commit and branch (sentinel_build_info).
    assert.deepEqual(
      instruction('ENV').filter((e) => e.includes('SENTINEL_BUILD_')),
      ['SENTINEL_BUILD_REVISION=${REVISION} SENTINEL_BUILD_BRANCH=${BRANCH}'],
    );
  });
});

describe('deploy/image SBOM', () => {
  const SBOM_IN_IMAGE = '/usr/share/doc/ollama-sentinel/sbom.cdx.json';
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const stage = (name: string) => stages.find((s) => s.split('\n')[0]!.endsWith(` AS ${name}`)) ?? '';

  it('is made in the fully installed build stage, without dev packages, and copied into the image', () => {
    // npm sbom fails on a production-only install (dev packages count as missing): it runs where npm ci ran in full.
    assert.match(stage('build'), /^RUN npm ci --ignore-scripts/m);
    assert.match(
      stage('build'),
      /^RUN npm sbom --sbom-format cyclonedx --sbom-type application --omit dev >\/src\/sbom\.cdx\.json$/m,
    );
    assert.ok(instruction('COPY').includes(`--from=build --chmod=644 /src/sbom.cdx.json ${SBOM_IN_IMAGE}`));
    assert.match(stage('sbom'), /^scratch AS sbom\nCOPY --from=build \/src\/sbom\.cdx\.json \//);
  });

  it('is made the same way by build-local-image.sh, checked, written beside the image and into it', () => {
    assert.match(script, /npm sbom --sbom-format cyclonedx --sbom-type application --omit dev/);
    assert.match(script, /check-sbom-main\.js" "\$sbom_tmp"/);
    assert.ok(script.includes(`"$rootfs${SBOM_IN_IMAGE}"`));
    assert.match(script, /--sbom FILE/);
  });

  it('build-local-image.sh labels the image with the same OCI keys as the Dockerfile', () => {
    const keys = (text: string) => [...text.matchAll(/(org\.opencontainers\.image\.\w+)=/g)].map((m) => m[1]).sort();
    assert.deepEqual(keys(script.match(/-c "LABEL (.+)"/)![1]!), keys(instruction('LABEL').join(' ')));
    assert.ok(keys(script).includes('org.opencontainers.image.created'));
    // The same source URL in both.
    const source = (text: string) => /org\.opencontainers\.image\.source=\\?"([^"\\]+)/.exec(text)?.[1];
    assert.equal(source(script), source(instruction('LABEL').join(' ')));
  });
});

describe('deploy/image/build-local-image.sh', () => {
  it('imports the same entrypoint, command and (numeric) node user as the Dockerfile', () => {
    const changes = [...script.matchAll(/-c '(\w+) (.+)'/g)].map((m) => [m[1]!, m[2]!] as const);
    const get = (k: string) => changes.find(([key]) => key === k)?.[1];
    assert.deepEqual(JSON.parse(get('ENTRYPOINT')!), ['/usr/bin/node', '/app/dist/shared/cli/main.js']);
    assert.deepEqual(JSON.parse(get('CMD')!), JSON.parse(instruction('CMD')[0]!));
    assert.equal(get('USER'), '1000:1000');
    assert.match(script, /node:x:1000:1000:/, 'uid 1000 is "node" as in the official image');
  });

  it('copies node with exactly the libraries ldd lists and leaves dev dependencies out', () => {
    assert.match(script, /ldd "\$node_bin"/);
    assert.match(script, /npm ls --omit=dev --all --parseable/);
    assert.match(script, /docker import/);
  });
});
