import type { ContainerSelector } from '../config/types.js';
import type { ListedContainer } from './docker-api.js';

/** Docker's name filter is an unanchored regular expression; names are matched exactly afterwards anyway. */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The full Swarm service name: `docker stack deploy` prefixes services with "<stack>_". */
export function swarmServiceName(selector: { readonly service: string; readonly stack?: string }): string {
  const { service, stack } = selector;
  return stack && !service.startsWith(`${stack}_`) ? `${stack}_${service}` : service;
}

/**
 * How one selector maps onto `GET /containers/json`: server-side filters to keep the answer small, and the exact
 * test applied to each listed container (the daemon's filters are coarser: name is a regex, labels cannot be
 * negated).
 */
export function containerListFilter(selector: ContainerSelector): {
  readonly filters: { [key: string]: string[] };
  readonly matches: (c: ListedContainer) => boolean;
} {
  const running = ['running'];
  switch (selector.kind) {
    case 'compose': {
      const project = `com.docker.compose.project=${selector.project}`;
      const service = `com.docker.compose.service=${selector.service}`;
      return {
        filters: { label: [project, service], status: running },
        // `docker compose run` containers carry the service's labels too, plus oneoff=True: never the target.
        matches: (c) =>
          c.Labels['com.docker.compose.project'] === selector.project &&
          c.Labels['com.docker.compose.service'] === selector.service &&
          c.Labels['com.docker.compose.oneoff'] !== 'True',
      };
    }
    case 'swarm': {
      const name = swarmServiceName(selector);
      const label = [`com.docker.swarm.service.name=${name}`];
      if (selector.stack) label.push(`com.docker.stack.namespace=${selector.stack}`);
      return {
        filters: { label, status: running },
        matches: (c) => c.Labels['com.docker.swarm.service.name'] === name,
      };
    }
    case 'container':
      return {
        filters: { name: [`^/${escapeRegExp(selector.name)}$`], status: running },
        matches: (c) => c.Names.includes(`/${selector.name}`),
      };
  }
}
