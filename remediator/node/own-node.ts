import type { EngineInfo } from '../../shared/docker/docker-api.js';

/**
 * `remediator.node_scope` as validated: off, auto (this Docker's Swarm node id), a fixed Swarm node id, or fleet (a
 * remediator on a manager that takes every node's alerts and only service-level steps: engine/fleet-gate.ts).
 */
export type NodeScope =
  | { readonly kind: 'off' }
  | { readonly kind: 'auto' }
  | { readonly kind: 'fleet' }
  | { readonly kind: 'fixed'; readonly id: string };

/** Swarm node ids are 25 lowercase base-36 characters (swarmkit's identity.NewID), e.g. `8yl3dl9d5wy3c1qa7ijjrgyko`. */
export const NODE_ID_RE = /^[a-z0-9]{25}$/;

/** The setting's text -> scope; null when it is none of auto, off or a node id (the config check says why). */
export function parseNodeScope(text: string): NodeScope | null {
  if (text === 'off') return { kind: 'off' };
  if (text === 'auto') return { kind: 'auto' };
  if (text === 'fleet') return { kind: 'fleet' };
  return NODE_ID_RE.test(text) ? { kind: 'fixed', id: text } : null;
}

/** This remediator's node, as its own Docker Engine says (GET /info). */
export interface OwnNode {
  /**
   * swarm: an active Swarm node (id known); no_swarm: this Docker is in no Swarm (single host); unknown: Docker did not
   * answer, or its Swarm membership is in transition (pending, error, locked), or it contradicts a fixed node_scope.
   */
  readonly state: 'swarm' | 'no_swarm' | 'unknown';
  readonly id?: string;
  /** Swarm.ControlAvailable: a manager (service-level steps need one). */
  readonly manager?: boolean;
  /** In words, for logs and the audit log. */
  readonly detail: string;
}

export function ownNodeFromInfo(info: EngineInfo): OwnNode {
  const state = info.Swarm?.LocalNodeState ?? '';
  const id = info.Swarm?.NodeID ?? '';
  if (state === '' || state === 'inactive') return { state: 'no_swarm', detail: 'this Docker is in no Swarm' };
  if (state !== 'active' || id === '')
    return { state: 'unknown', detail: `this Docker's Swarm state is ${JSON.stringify(state)}, not active` };
  const manager = info.Swarm?.ControlAvailable === true;
  return { state: 'swarm', id, manager, detail: `node ${id} (${manager ? 'manager' : 'worker'})` };
}

/** A fixed node_scope names the node; Docker may only confirm it (a different id is a misconfiguration). Others: as read. */
export function applyScope(scope: NodeScope, read: OwnNode): OwnNode {
  if (scope.kind !== 'fixed') return read;
  if (read.state === 'swarm' && read.id !== scope.id)
    return {
      state: 'unknown',
      detail: `node_scope names node ${scope.id} but this Docker is ${read.detail}: fix remediator.node_scope`,
    };
  return {
    state: 'swarm',
    id: scope.id,
    ...(read.manager !== undefined ? { manager: read.manager } : {}),
    detail: `node ${scope.id} (node_scope)${read.state === 'swarm' ? ` = ${read.detail}` : ''}`,
  };
}

export type NodeRefusal = 'other_node' | 'no_node_label' | 'not_manager';

export type NodeVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly refused: NodeRefusal;
      readonly detail: string;
      readonly alertNode?: string;
      readonly ownNode?: string;
    }
  /** This node's identity is not known now: the alert is neither accepted nor refused (the webhook answers 503). */
  | { readonly ok: false; readonly unknown: string };

export interface NodeRules {
  readonly scope: NodeScope;
  /** The alert label naming the node (`remediator.node_label`, Prometheus' fleet relabeling sets `node`). */
  readonly label: string;
  /** `remediator.require_node_label`: in a Swarm, an alert without the label is refused (fleet configs). */
  readonly required: boolean;
}

/**
 * Fleet scope: every node's alert is taken (a fault's nodes are counted before a service-level step), but only by a
 * remediator whose own Docker is a Swarm manager (the services API answers there only), and only when the alert names
 * its node (a fault nobody can place cannot be counted).
 */
function judgeFleetAlert(value: string | undefined, rules: NodeRules, own: OwnNode): NodeVerdict {
  if (own.state === 'unknown')
    return { ok: false, unknown: `cannot tell whether this remediator runs on a Swarm manager: ${own.detail}` };
  if (own.state === 'no_swarm' || own.manager !== true)
    return {
      ok: false,
      refused: 'not_manager',
      detail: `node_scope fleet takes service-level steps, which need a Swarm manager, and ${own.detail} is not one: run the fleet remediator on a manager`,
      ...(own.id !== undefined ? { ownNode: own.id } : {}),
    };
  if (value === undefined)
    return {
      ok: false,
      refused: 'no_node_label',
      detail: `the alert has no ${rules.label} label naming its node: node_scope fleet counts the nodes of a fault`,
      ownNode: own.id!,
    };
  return { ok: true };
}

/**
 * Whether an alert is for this node. Outside a Swarm (scope auto) every alert is, as on a single host. In a Swarm, an
 * alert naming another node is refused; one naming no node is accepted (the single-host stack on a one-node Swarm has
 * no node relabeling) unless `required`.
 */
export function judgeAlertNode(labels: Readonly<Record<string, string>>, rules: NodeRules, own: OwnNode): NodeVerdict {
  if (rules.scope.kind === 'off') return { ok: true };
  const value = Object.hasOwn(labels, rules.label) && labels[rules.label] !== '' ? labels[rules.label] : undefined;
  if (rules.scope.kind === 'fleet') return judgeFleetAlert(value, rules, own);
  if (own.state === 'no_swarm') return { ok: true };
  if (own.state === 'unknown') {
    if (value === undefined && !rules.required) return { ok: true };
    return { ok: false, unknown: `cannot tell whether the alert is for this node: ${own.detail}` };
  }
  const ownId = own.id!;
  if (value === undefined) {
    if (!rules.required) return { ok: true };
    return {
      ok: false,
      refused: 'no_node_label',
      detail: `the alert has no ${rules.label} label naming its node (require_node_label; this is node ${ownId})`,
      ownNode: ownId,
    };
  }
  if (value === ownId) return { ok: true };
  const shown = JSON.stringify(value.slice(0, 80));
  return {
    ok: false,
    refused: 'other_node',
    detail: `for ${rules.label}=${shown}, another node: this remediator runs on node ${ownId} and acts on its own node only`,
    alertNode: value.slice(0, 80),
    ownNode: ownId,
  };
}
