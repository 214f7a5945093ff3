// The fleet remediator's ladder walk (node_scope fleet) on the engine harness: no diagnosis and no probe, the nodes'
// alerts are the evidence; after a step it waits verify_timeout for them to resolve, then goes on or fails.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupSnapshots } from '../../../../remediator/incidents/group-snapshots.js';
import { decisions, makeHarness } from '../../../helpers/engine-harness.js';

const A = 'aaaaaaaaaaaaaaaaaaaaaaaa1';
const B = 'bbbbbbbbbbbbbbbbbbbbbbbb2';
const fleetYaml = (ladder: string, extra = '') => `  node_scope: fleet
  verify_timeout: 10m
${extra}  rules:
    - {name: heal, match: {alertname: OllamaBroken}, ladder: ${ladder}}
`;
const alert = (fingerprint: string, node: string) => ({
  fingerprint,
  labels: { alertname: 'OllamaBroken', ollama: 'main', node },
});

describe('heal-fleet-incident', () => {
  it('acts once for two nodes, silences the alert on every node, then fails when it still fires after verify_timeout', async () => {
    const h = makeHarness({ remediatorYaml: fleetYaml('[force_update_service]'), withSilencer: true });
    try {
      await h.send(alert('f0000000000000a1', A));
      assert.deepEqual(h.ports.real(), []);
      await h.send(alert('f0000000000000b2', B));
      assert.deepEqual(h.ports.real(), ['force_update_service@main']);
      assert.equal(h.ports.steps[0]!.healMarker, 'OllamaBroken main 2026-06-01T00:00:00Z');
      assert.equal(h.ports.diagnoses, 0, 'no node is diagnosed from the manager');
      assert.deepEqual(h.ports.verified, [], 'nor probed');
      assert.deepEqual(
        h.silences.created[0]!.matchers.map((m) => m.name),
        ['alertname', 'ollama'],
        "a fleet restart silences the alert on every node, not one node's",
      );
      await h.clock.advance(9 * 60_000);
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'open');
      await h.clock.advance(2 * 60_000);
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.status, 'failed');
      assert.equal(inc.reason, 'ladder_exhausted');
      assert.deepEqual(h.ports.real(), ['force_update_service@main'], 'never a second restart');
      assert.deepEqual(decisions(h.audit).slice(-2), [
        'decision:escalated:ladder_exhausted',
        'close:escalated:ladder_exhausted',
      ]);
    } finally {
      await h.dispose();
    }
  });

  it("closes as resolved when every node's alert resolves after the step", async () => {
    const h = makeHarness({ remediatorYaml: fleetYaml('[force_update_service]') });
    try {
      await h.send(alert('f0000000000000a1', A), alert('f0000000000000b2', B));
      assert.deepEqual(h.ports.real(), ['force_update_service@main']);
      const resolved = { status: 'resolved' as const, endsAt: '2026-06-01T12:03:00Z' };
      await h.send({ ...alert('f0000000000000a1', A), ...resolved }, { ...alert('f0000000000000b2', B), ...resolved });
      const inc = h.engine.incidents(1).incidents[0]!;
      assert.equal(inc.status, 'resolved');
      assert.match(
        String(h.audit.find((e) => e.kind === 'close')?.detail),
        /every alert of the incident resolved after its last step/,
      );
    } finally {
      await h.dispose();
    }
  });

  it("never counts a node whose alert its group's latest notification no longer lists (an Alertmanager that moved)", async () => {
    const groups = new GroupSnapshots();
    const h = makeHarness({ remediatorYaml: fleetYaml('[force_update_service]'), groups });
    try {
      const a = alert('f0000000000000a1', A);
      const b = alert('f0000000000000b2', B);
      const notify = (...fingerprints: string[]) =>
        groups.note(
          'g',
          fingerprints.map((fingerprint) => ({ fingerprint, status: 'firing' })),
          0,
        );
      notify(a.fingerprint);
      await h.send(a);
      // Node A's Alertmanager went away with its node; the new one never saw A's alert, so its end is never sent.
      // Node B's fault arrives through it: the group lists B only.
      notify(b.fingerprint);
      await h.send(b);
      assert.deepEqual(h.ports.real(), [], "one node's fault: no fleet restart");
      assert.match(
        String(h.audit.filter((e) => e.kind === 'decision').at(-1)?.detail),
        new RegExp(
          `fault on 1 node \\(${B}; not counted: ${A} \\(its group's latest notification no longer lists it firing\\)\\)`,
        ),
      );
      // A fires again and the group lists both: now it is the fleet's.
      notify(a.fingerprint, b.fingerprint);
      await h.send(a);
      assert.deepEqual(h.ports.real(), ['force_update_service@main']);
    } finally {
      await h.dispose();
    }
  });

  it('takes no step in dry-run', async () => {
    const h = makeHarness({ remediatorYaml: fleetYaml('[force_update_service]', '  dry_run: true\n') });
    try {
      await h.send(alert('f0000000000000a1', A), alert('f0000000000000b2', B));
      assert.deepEqual(h.ports.real(), []);
      assert.deepEqual(
        h.ports.steps.map((s) => `${s.action}:${s.dryRun}`),
        ['force_update_service:true'],
      );
      assert.equal(h.engine.incidents(1).incidents[0]!.status, 'dry_run');
    } finally {
      await h.dispose();
    }
  });
});
