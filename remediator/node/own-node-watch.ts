import { setTimeout as delay } from 'node:timers/promises';
import type { EngineInfo } from '../../shared/docker/docker-api.js';
import type { Logger } from '../../shared/log/create-logger.js';
import {
  applyScope,
  judgeAlertNode,
  ownNodeFromInfo,
  type NodeRules,
  type NodeVerdict,
  type OwnNode,
} from './own-node.js';

/**
 * A node's identity changes only when it leaves or joins a Swarm or is promoted/demoted: one GET /info a minute keeps
 * it fresh (as the exporter's node collector does). An alert that does not fit the identity read makes it read again
 * at once (no more often than REREAD_MIN_MS), so a node that left and rejoined with a new id is picked up by the first
 * alert routed to the new id, while a flood of misrouted alerts costs Docker one read per REREAD_MIN_MS.
 */
export const REFRESH_MS = 60_000;
export const REREAD_MIN_MS = 5_000;

export interface OwnNodeWatchDeps {
  readonly docker: { info(options?: { abortSignal?: AbortSignal }): Promise<unknown> };
  readonly rules: NodeRules;
  /** The remediator's clock (engine/clock.ts's Clock; not imported: engine/ depends on this folder's verdicts). */
  readonly clock: { now(): number; setTimer(fn: () => void, ms: number): () => void };
  /** Limit of one GET /info (docker.timeout, at most 5 s: start-up waits on it). */
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Told of each identity read that differs from the previous one (the metric, the log). */
  readonly onChange?: (node: OwnNode) => void;
}

/** This remediator's node as its own Docker says, read at start (bounded retry), every minute, and when in doubt. */
export class OwnNodeWatch {
  #node: OwnNode = { state: 'unknown', detail: 'not read yet' };
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<OwnNode> | null = null;
  #cancel: (() => void) | null = null;

  constructor(private readonly d: OwnNodeWatchDeps) {}

  current(): OwnNode {
    return this.#node;
  }

  /** One GET /info now; concurrent callers share it. A failed read leaves the node unknown (never a stale guess). */
  read(signal?: AbortSignal): Promise<OwnNode> {
    this.#reading ??= this.#readOnce(signal).finally(() => (this.#reading = null));
    return this.#reading;
  }

  /**
   * Start-up: up to `attempts` reads, 0.5 s apart doubling (1.5 s in all by default: a Docker starting beside us), until
   * Docker answers; then every REFRESH_MS. Still unknown after that: alerts that name a node get 503 until it answers.
   */
  async start(attempts = 3): Promise<OwnNode> {
    let wait = 500;
    for (let i = 1; ; i++) {
      const node = await this.read();
      if (node.state !== 'unknown' || i >= attempts) break;
      // A real timer that keeps the process alive: nothing else does before the listener starts.
      await delay(wait);
      wait *= 2;
    }
    const again = () => {
      void this.read().finally(() => {
        if (this.#cancel) this.#cancel = this.d.clock.setTimer(again, REFRESH_MS);
      });
    };
    this.#cancel = this.d.clock.setTimer(again, REFRESH_MS);
    return this.#node;
  }

  stop(): void {
    this.#cancel?.();
    this.#cancel = null;
  }

  /**
   * Each alert's verdict (by its labels). When one would be refused or left undecided on an identity read more than
   * REREAD_MIN_MS ago, the identity is read again first: the verdict is never taken on an old id alone.
   */
  async judge(labels: readonly Readonly<Record<string, string>>[]): Promise<NodeVerdict[]> {
    const judgeAll = () =>
      labels.map((l) => judgeAlertNode(l, this.d.rules, applyScope(this.d.rules.scope, this.#node)));
    let verdicts = judgeAll();
    if (verdicts.some((v) => !v.ok) && this.d.clock.now() - this.#readAt >= REREAD_MIN_MS) {
      await this.read();
      verdicts = judgeAll();
    }
    return verdicts;
  }

  /** For actions: this node's identity read now, with node_scope applied (a fixed id, or Docker's). */
  async readForAction(signal?: AbortSignal): Promise<OwnNode> {
    return applyScope(this.d.rules.scope, await this.read(signal));
  }

  async #readOnce(signal?: AbortSignal): Promise<OwnNode> {
    const timeout = AbortSignal.timeout(this.d.timeoutMs);
    let next: OwnNode;
    try {
      const info = (await this.d.docker.info({
        abortSignal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      })) as EngineInfo;
      next = ownNodeFromInfo(info);
    } catch (err) {
      const detail = `Docker did not say (GET /info: ${(err as Error).message})`;
      // Given up by the caller (a step aborted): says nothing about the node, so what is known stays.
      if (signal?.aborted) return { state: 'unknown', detail };
      next = { state: 'unknown', detail };
    }
    this.#readAt = this.d.clock.now();
    const before = this.#node;
    this.#node = next;
    if (before.state !== next.state || before.id !== next.id || before.manager !== next.manager) {
      const level = next.state === 'unknown' ? 'warn' : 'info';
      this.d.log[level]({ node: next.detail, before: before.detail }, "this remediator's node (from its Docker)");
      this.d.onChange?.(next);
    }
    return next;
  }
}
