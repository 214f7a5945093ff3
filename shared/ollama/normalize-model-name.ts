/**
 * Canonical spelling of a model name, the way Ollama lists it in /api/tags and /api/ps (types/model/name.go
 * DisplayShortest): `[host/namespace/]model:tag[@digest]`. The default host "registry.ollama.ai" and namespace
 * "library" are dropped, a missing tag becomes "latest". Comparisons in Ollama are case-insensitive, but the
 * spelling is kept so that labels match what the server reports.
 */
const DEFAULT_HOST = 'registry.ollama.ai';
const DEFAULT_NAMESPACE = 'library';
const DEFAULT_TAG = 'latest';

export function normalizeModelName(name: string): string {
  const raw = name.trim();
  if (raw === '') throw new Error('model name is empty');
  if (/\s/.test(raw)) throw new Error(`model name "${name}" contains whitespace`);

  // The digest goes last ("model@sha256:..."); its own ':' must not be read as a tag separator.
  const at = raw.lastIndexOf('@');
  const base = at >= 0 ? raw.slice(0, at) : raw;
  const digest = at >= 0 ? raw.slice(at + 1) : undefined;
  if (digest !== undefined && !/^[A-Za-z0-9]+[:-][0-9A-Fa-f]+$/.test(digest)) {
    throw new Error(`model name "${name}" has a malformed digest "${digest}" (expected e.g. sha256:<hex>)`);
  }
  if (base === '') throw new Error(`model name "${name}" has a digest but no model`);

  const parts = base.split('/');
  if (parts.length > 3 || parts.some((p) => p === '')) {
    throw new Error(`model name "${name}" must look like [host/][namespace/]model[:tag]`);
  }
  // Only the last path segment can carry the tag; a host segment may contain a port ("localhost:5000").
  const last = parts[parts.length - 1]!;
  const colon = last.lastIndexOf(':');
  const model = colon >= 0 ? last.slice(0, colon) : last;
  const tag = colon >= 0 ? last.slice(colon + 1) : DEFAULT_TAG;
  if (model === '') throw new Error(`model name "${name}" has a tag but no model`);
  if (tag === '') throw new Error(`model name "${name}" has an empty tag`);

  let prefix = '';
  if (parts.length === 3) {
    const [host, namespace] = parts as [string, string, string];
    if (host.toLowerCase() !== DEFAULT_HOST) prefix = `${host}/${namespace}/`;
    else if (namespace.toLowerCase() !== DEFAULT_NAMESPACE) prefix = `${namespace}/`;
  } else if (parts.length === 2) {
    const namespace = parts[0]!;
    if (namespace.toLowerCase() !== DEFAULT_NAMESPACE) prefix = `${namespace}/`;
  }
  return `${prefix}${model}:${tag}${digest !== undefined ? `@${digest}` : ''}`;
}

/**
 * The key two spellings of one model share: Ollama fills in the default host, namespace and tag (ParseName) and
 * compares every part case-insensitively (Name.EqualFold), so "Llama3" in /api/ps is the configured "llama3:latest".
 * A name Ollama would reject still gets a key (lowercased as is), so a listing with one odd entry stays comparable.
 */
export function modelNameKey(name: string): string {
  try {
    return normalizeModelName(name).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}
