import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { remediatorSection } from '../../../remediator/remediator-section.js';
import { parseUnitFile, type UnitLine } from '../../helpers/parse-unit-file.js';
import { repoPath } from '../../helpers/repo-path.js';

const load = (name: string) => parseUnitFile(readFileSync(repoPath(`deploy/systemd/${name}`), 'utf8'));
const values = (u: UnitLine[], key: string) =>
  u.filter((l) => l.section === 'Service' && l.key === key).map((l) => l.value);
const one = (u: UnitLine[], key: string) => {
  const v = values(u, key);
  assert.equal(v.length, 1, `${key} set ${v.length} times`);
  return v[0]!;
};
const NVIDIA_DEVICES = ['char-nvidiactl rw', 'char-nvidia-frontend rw', 'char-nvidia-uvm rw', 'char-nvidia-caps rw'];

for (const [name, command] of [
  ['ollama-sentinel-exporter.service', 'exporter'],
  ['ollama-sentinel-remediator.service', 'remediator'],
] as const) {
  describe(`deploy/systemd/${name}`, () => {
    const u = load(name);

    it('starts the command with node as Type=exec and restarts on failure', () => {
      assert.equal(one(u, 'Type'), 'exec');
      assert.match(
        one(u, 'ExecStart'),
        new RegExp(
          `^/usr/bin/node /\\S+/dist/shared/cli/main\\.js ${command} --config /etc/ollama-sentinel/config\\.yaml$`,
        ),
      );
      assert.equal(one(u, 'Restart'), 'on-failure');
      assert.ok(
        u.some((l) => l.section === 'Install' && l.key === 'WantedBy' && l.value === 'multi-user.target'),
        'WantedBy=multi-user.target',
      );
    });

    it('runs sandboxed under a dynamic user', () => {
      for (const [key, value] of [
        ['DynamicUser', 'yes'],
        ['NoNewPrivileges', 'yes'],
        ['ProtectSystem', 'strict'],
        ['ProtectHome', 'yes'],
        ['PrivateTmp', 'yes'],
        ['ProtectKernelModules', 'yes'],
        ['RestrictNamespaces', 'yes'],
        ['SystemCallArchitectures', 'native'],
        ['RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6'],
        ['DevicePolicy', 'closed'],
      ]) {
        assert.equal(one(u, key!), value, key);
      }
    });

    it('never sets MemoryDenyWriteExecute (V8 needs W+X pages) nor hides /proc or devices from nvidia-smi', () => {
      assert.deepEqual(values(u, 'MemoryDenyWriteExecute'), []);
      assert.deepEqual(values(u, 'PrivateDevices'), []);
      assert.deepEqual(values(u, 'ProtectProc'), []);
    });

    it('allows the NVIDIA device nodes', () => {
      assert.deepEqual(values(u, 'DeviceAllow').sort(), [...NVIDIA_DEVICES].sort());
    });
  });
}

describe('the units differ where their jobs do', () => {
  it('exporter: no capabilities, no docker group unless the operator opts in', () => {
    const u = load('ollama-sentinel-exporter.service');
    assert.equal(one(u, 'CapabilityBoundingSet'), '');
    assert.deepEqual(values(u, 'SupplementaryGroups'), []);
  });

  it('remediator: the docker group with a root-equivalence warning, CAP_KILL only, the token as a credential, the state dir', () => {
    const u = load('ollama-sentinel-remediator.service');
    const groups = u.find((l) => l.key === 'SupplementaryGroups')!;
    assert.equal(groups.value, 'docker');
    assert.match(groups.comments.join(' '), /root-equivalent/);
    assert.equal(one(u, 'CapabilityBoundingSet'), 'CAP_KILL');
    assert.equal(one(u, 'AmbientCapabilities'), 'CAP_KILL');
    assert.match(one(u, 'LoadCredential'), /^remediator-token:\/etc\/ollama-sentinel\/remediator-token$/);
    const env = values(u, 'Environment');
    assert.ok(env.includes('SENTINEL_REMEDIATOR_BEARER_TOKEN_FILE=%d/remediator-token'));
    const dataDir = remediatorSection.scalars.data_dir!.default;
    assert.equal(`/var/lib/${one(u, 'StateDirectory')}`, dataDir);
    assert.ok(env.includes(`SENTINEL_REMEDIATOR_DATA_DIR=${dataDir}`));
  });
});
