import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  classifyCgroup,
  isDockerCgroup,
  parseCgroupContainerId,
  parseCgroupPathContainerId,
  type ContainerRuntime,
} from '../../../../shared/proc/parse-cgroup-container-id.js';

// dist/test/unit/shared/proc/ -> repository root
const fixtures = new URL('../../../../../test/fixtures/cgroup/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, fixtures), 'utf8');

const cases: ReadonlyArray<[file: string, expected: string | null, why: string]> = [
  ['v2-cgroupfs.txt', 'f92c95e557276e935bdc0aefa82f828bad771484946843a0f5b976419607479b', 'v2, cgroupfs driver'],
  ['v2-systemd.txt', '316c8cccb4989e48d1d9952150aa6184e2349979e1abcb57ffdaa179f53f361d', 'v2, systemd driver scope'],
  ['v1-cgroupfs.txt', '6de3f1c14b128c8f8b3afabb0115e4283f4100f9d3c7d458bd6039e7502284f3', 'v1 lines, cgroupfs'],
  ['v1-systemd.txt', '0de90b45e7a5c4e153731c6fbafa25228fa9a3f5ee8e8974f09e7eecc19aae07', 'v1 + v2 hybrid, systemd'],
  ['v2-docker-in-docker.txt', 'b910eed3261d474c4d90d06c09af53f9388748470157dc77ce67ecd516b94e52', 'nested: innermost'],
  [
    'v1-docker-in-docker.txt',
    'ea76759ff4d6bfc6e3f2bc388b88a6626e9540af6c3664de78e2abc46da2f048',
    'nested v1, shorter systemd line',
  ],
  [
    'v2-kubepods-containerd.txt',
    'a0b0908f124508ecfb27a48baa4e8fc94d2e1a99c11144b2bce0ef334d07babf',
    'cri-containerd scope',
  ],
  ['v2-kubepods-crio.txt', '11063b37d9dea8b727d4180cc57af1b273209abaa5f584fb763445b6c7ac91a7', 'crio scope'],
  [
    'v1-kubepods-cgroupfs.txt',
    'fe7f41307333ef82872b431dc286ea7481f05661a0e84dabaf2eb998dbfa8602',
    'kubepods cgroupfs, bare id',
  ],
  ['v2-host-service.txt', null, 'host systemd service (a host-installed Ollama)'],
  ['v2-host-session.txt', null, 'user session'],
  ['v1-host.txt', null, 'v1 host process'],
  ['v2-private-namespace.txt', null, 'private cgroup namespace hides the path'],
  ['v2-podman-conmon.txt', null, 'a 64-hex id inside an unknown unit name is not a container'],
  ['v1-build-machine-sandbox.txt', null, 'this machine: 32-hex sandbox id is no container id'],
];

for (const [file, expected, why] of cases) {
  test(`parseCgroupContainerId: ${file} (${why})`, () => {
    assert.equal(parseCgroupContainerId(fixture(file)), expected);
  });
}

test('parseCgroupContainerId: empty text and garbage lines give null', () => {
  assert.equal(parseCgroupContainerId(''), null);
  assert.equal(parseCgroupContainerId('not a cgroup line\n\n'), null);
});

test('parseCgroupContainerId: a path that contains ":" is kept whole', () => {
  const id = 'ab'.repeat(32);
  assert.equal(parseCgroupContainerId(`0::/weird:slice/docker-${id}.scope\n`), id);
});

test('parseCgroupPathContainerId: upper-case hex is not a Docker id', () => {
  assert.equal(parseCgroupPathContainerId(`/docker/${'AB'.repeat(32)}`), null);
});

test('parseCgroupPathContainerId: a child cgroup below the container scope still names the container', () => {
  const id = 'cd'.repeat(32);
  assert.equal(parseCgroupPathContainerId(`/system.slice/docker-${id}.scope/init.scope`), id);
});

// classifyCgroup: the runtime each layout names; null (the host) only where no line names any.
const placements: ReadonlyArray<[file: string, runtime: ContainerRuntime | null, why: string]> = [
  ['v2-cgroupfs.txt', 'docker', '/docker/<id>'],
  ['v2-systemd.txt', 'docker', 'docker-<id>.scope'],
  ['v1-cgroupfs.txt', 'docker', 'v1 /docker/<id>, whatever the v2 line says'],
  ['v1-systemd.txt', 'docker', 'v1 + v2 hybrid, systemd'],
  ['v1-custom-cgroup-parent.txt', 'docker', 'a bare id under --cgroup-parent (the test environment)'],
  ['v2-docker-in-docker.txt', 'docker', 'nested'],
  ['v1-docker-in-docker.txt', 'docker', 'nested v1'],
  ['v2-kubepods-containerd.txt', 'containerd', 'cri-containerd scope'],
  ['v2-kubepods-crio.txt', 'crio', 'crio scope'],
  ['v1-kubepods-cgroupfs.txt', 'kubernetes', 'a bare id under kubepods is not Docker'],
  ['v2-podman-conmon.txt', 'podman', 'conmon: no id, still Podman'],
  ['v2-podman-cgroupfs.txt', 'podman', 'Podman cgroupfs: libpod-<id> without .scope'],
  ['v2-podman-rootless.txt', 'podman', 'rootless Podman under a user session'],
  ['v2-lxc.txt', 'lxc', 'LXC 4+ payload cgroup'],
  ['v1-lxc.txt', 'lxc', 'LXC on cgroup v1'],
  ['v2-nspawn.txt', 'nspawn', 'systemd-nspawn machine'],
  ['v2-host-service.txt', null, 'host systemd service'],
  ['v2-host-session.txt', null, 'user session'],
  ['v1-host.txt', null, 'v1 host process'],
  ['v2-private-namespace.txt', null, 'the root of our own cgroup namespace'],
  ['v1-build-machine-sandbox.txt', null, "the build machine's 32-hex sandbox cgroup"],
];

for (const [file, runtime, why] of placements) {
  test(`classifyCgroup: ${file} is ${runtime ?? 'the host'} (${why})`, () => {
    const text = fixture(file);
    assert.deepEqual(classifyCgroup(text), { containerId: parseCgroupContainerId(text), runtime });
  });
}

test('classifyCgroup: LXC, nspawn and Podman processes have no container id and are still not the host', () => {
  for (const file of ['v2-lxc.txt', 'v1-lxc.txt', 'v2-nspawn.txt', 'v2-podman-cgroupfs.txt', 'v2-podman-conmon.txt']) {
    const p = classifyCgroup(fixture(file));
    assert.equal(p.containerId, null, file);
    assert.notEqual(p.runtime, null, file);
  }
  assert.equal(classifyCgroup('0::/machine.slice/machine-ollama.scope/payload/init.scope\n').runtime, 'nspawn');
});

test('classifyCgroup: unreadable text is never the host; paths outside our namespace are still read', () => {
  assert.equal(classifyCgroup('').runtime, 'other');
  assert.equal(classifyCgroup('garbage\n').runtime, 'other');
  assert.equal(classifyCgroup('0::/../../system.slice/ollama.service\n').runtime, null);
  assert.equal(classifyCgroup('0::/../../lxc.payload.x/init.scope\n').runtime, 'lxc');
  const id = 'ef'.repeat(32);
  assert.deepEqual(classifyCgroup(`0::/../docker-${id}.scope\n`), { containerId: id, runtime: 'docker' });
});

test('classifyCgroup: a host unit merely containing a runtime word is still the host', () => {
  assert.equal(classifyCgroup('0::/system.slice/dockerd-exporter.service\n').runtime, null);
  assert.equal(classifyCgroup('0::/system.slice/snap.ollama.listener.service\n').runtime, null);
  assert.equal(classifyCgroup('0::/system.slice/docker.service\n').runtime, 'docker');
});

test('isDockerCgroup: only a cgroup Docker made for exactly that id', () => {
  const id = 'ab'.repeat(32);
  assert.equal(isDockerCgroup(classifyCgroup(`0::/system.slice/docker-${id}.scope\n`), id), true);
  assert.equal(isDockerCgroup(classifyCgroup(`0::/custom-parent/${id}\n`), id), true);
  assert.equal(isDockerCgroup(classifyCgroup(`0::/machine.slice/libpod-${id}.scope\n`), id), false);
  assert.equal(isDockerCgroup(classifyCgroup(`0::/system.slice/cri-containerd-${id}.scope\n`), id), false);
  assert.equal(isDockerCgroup(classifyCgroup(`0::/kubepods/besteffort/pod1/${id}\n`), id), false);
  assert.equal(isDockerCgroup(classifyCgroup(`0::/docker/${id}\n`), 'cd'.repeat(32)), false, 'another id');
});
