/**
 * The simulator's "registry": models it can pull, with realistic sizes (bytes on disk) and metadata as /api/tags
 * and /api/show return them. Digests are derived from the name so they stay stable between runs.
 */
import { createHash } from 'node:crypto';

export interface CatalogueModel {
  /** Canonical name, `name:tag`. */
  name: string;
  /** Bytes on disk (sum of the layers). */
  size: number;
  family: string;
  families: string[];
  parameterSize: string;
  quantizationLevel: string;
  capabilities: string[];
  /** The model's own maximum context. */
  maxContext: number;
  /** KV cache bytes per token of context (decides the loaded footprint). */
  kvBytesPerToken: number;
  /** Fully-on-GPU generation speed (tokens/s) on an H100. */
  gpuTokensPerSecond: number;
}

export interface ModelLayer {
  digest: string;
  mediaType: string;
  size: number;
}

function model(
  name: string,
  size: number,
  family: string,
  parameterSize: string,
  quantizationLevel: string,
  capabilities: string[],
  maxContext: number,
  kvBytesPerToken: number,
  gpuTokensPerSecond: number,
): CatalogueModel {
  return {
    name,
    size,
    family,
    families: [family],
    parameterSize,
    quantizationLevel,
    capabilities,
    maxContext,
    kvBytesPerToken,
    gpuTokensPerSecond,
  };
}

export const MODEL_CATALOGUE: readonly CatalogueModel[] = [
  model(
    'gpt-oss:20b',
    13_780_173_724,
    'gptoss',
    '20.9B',
    'MXFP4',
    ['completion', 'tools', 'thinking'],
    131072,
    49_152,
    180,
  ),
  model('llama3:latest', 4_661_224_676, 'llama', '8.0B', 'Q4_0', ['completion'], 8192, 131_072, 140),
  model('llama3.1:8b', 4_920_753_328, 'llama', '8.0B', 'Q4_K_M', ['completion', 'tools'], 131072, 131_072, 135),
  model('qwen2.5:0.5b', 397_821_319, 'qwen2', '494.03M', 'Q4_K_M', ['completion', 'tools'], 32768, 12_288, 400),
  model('llama3.3:70b', 42_520_413_916, 'llama', '70.6B', 'Q4_K_M', ['completion', 'tools'], 131072, 327_680, 30),
  model(
    'qwen3:235b',
    142_487_462_542,
    'qwen3moe',
    '235.1B',
    'Q4_K_M',
    ['completion', 'tools', 'thinking'],
    40960,
    192_512,
    25,
  ),
  model('nomic-embed-text:latest', 274_302_450, 'nomic-bert', '137M', 'F16', ['embedding'], 2048, 0, 0),
];

/**
 * Ollama's name rules, reduced to what clients send: optional `registry.ollama.ai/` and `library/` prefixes (compared
 * case-insensitively), `:latest` when no tag. The case is kept: Ollama stores a name as first given and compares
 * names part by part with strings.EqualFold (server/routes.go getExistingName, types/model/name.go, 0.12.6 and
 * 0.33). Returns undefined for names Ollama rejects (e.g. `name@sha256:…`: `@` is not a valid name character).
 */
export function normalizeSimModelName(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  let name = raw.trim();
  if (name === '' || /[\s"'\\]/.test(name)) return undefined;
  name = name.replace(/^(https?:\/\/)?registry\.ollama\.ai\//i, '').replace(/^library\//i, '');
  const lastSlash = name.lastIndexOf('/');
  if (!name.slice(lastSlash + 1).includes(':')) name += ':latest';
  const [base, tag] = [name.slice(0, name.lastIndexOf(':')), name.slice(name.lastIndexOf(':') + 1)];
  if (!/^[A-Za-z0-9_][A-Za-z0-9._/-]*$/.test(base) || !/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(tag)) return undefined;
  return name;
}

/** A Map whose string keys compare case-insensitively (the key is folded; values keep their own stored names). */
export class CaseFoldMap<V> extends Map<string, V> {
  override get(key: string): V | undefined {
    return super.get(key.toLowerCase());
  }
  override set(key: string, value: V): this {
    return super.set(key.toLowerCase(), value);
  }
  override has(key: string): boolean {
    return super.has(key.toLowerCase());
  }
  override delete(key: string): boolean {
    return super.delete(key.toLowerCase());
  }
}

export function findCatalogueModel(name: string): CatalogueModel | undefined {
  return MODEL_CATALOGUE.find((m) => m.name.toLowerCase() === name.toLowerCase());
}

/** A model the catalogue does not know (e.g. created or added by a test): a small generic llama. */
export function genericModel(name: string, size = 1_000_000_000): CatalogueModel {
  return model(name, size, 'llama', '1.2B', 'Q4_K_M', ['completion'], 8192, 32_768, 200);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Layers as the registry would list them: the weights blob plus small template/license/params blobs. */
export function modelLayers(m: CatalogueModel): ModelLayer[] {
  const small = [
    { kind: 'template', mediaType: 'application/vnd.ollama.image.template', size: 1_372 },
    { kind: 'license', mediaType: 'application/vnd.ollama.image.license', size: 12_403 },
    { kind: 'params', mediaType: 'application/vnd.ollama.image.params', size: 110 },
  ];
  const weights = Math.max(1, m.size - small.reduce((s, l) => s + l.size, 0));
  return [
    {
      digest: `sha256:${sha256Hex(`${m.name}/model`)}`,
      mediaType: 'application/vnd.ollama.image.model',
      size: weights,
    },
    ...small.map((l) => ({
      digest: `sha256:${sha256Hex(`${m.name}/${l.kind}`)}`,
      mediaType: l.mediaType,
      size: l.size,
    })),
  ];
}
