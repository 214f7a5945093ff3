import type { ContainerSelector } from '../../shared/config/types.js';
import { containerListFilter } from '../../shared/docker/container-list-filter.js';

/** `GET /containers/json?...` as the calls log shows it, for resolving a selector's containers. */
export function describeContainerList(selector: ContainerSelector, all = false): string {
  const { filters } = containerListFilter(selector);
  const shown = all ? Object.fromEntries(Object.entries(filters).filter(([k]) => k !== 'status')) : filters;
  return `GET /containers/json?${all ? 'all=1&' : ''}filters=${JSON.stringify(shown)}`;
}

/** The selector in words, for `detail`. */
export function describeSelector(selector: ContainerSelector): string {
  switch (selector.kind) {
    case 'compose':
      return `Compose service ${selector.project}/${selector.service}`;
    case 'swarm':
      return `Swarm service ${selector.stack ? `${selector.stack}/` : ''}${selector.service}`;
    case 'container':
      return `container ${selector.name}`;
  }
}
