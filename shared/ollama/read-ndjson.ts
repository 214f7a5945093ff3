import { OllamaError } from './ollama-error.js';

export type NdjsonObject = Record<string, unknown>;

export interface ReadNdjsonOptions {
  /** Recognises the object that ends a successful stream ({"status":"success"} for pull, {"done":true} for generate). */
  readonly isFinal: (value: NdjsonObject) => boolean;
  /** Called for every object before the final one is recognised, including the final one. */
  readonly onValue?: (value: NdjsonObject) => void;
  /** Longest accepted line in characters; protects against a server streaming garbage without newlines. */
  readonly maxLineLength?: number;
  /** HTTP status of the response, attached to errors (mid-stream errors come with the original 200). */
  readonly status?: number;
  /**
   * Read to the end of the stream; the LAST object must be the final one. For /api/create, which streams an embedded
   * pull of a missing base with that pull's own {"status":"success"} before its real end (server/create.go ->
   * parseFromModel -> PullModel, images.go; 0.12 and 0.33).
   */
  readonly toEnd?: boolean;
}

/**
 * Strict reader of Ollama's application/x-ndjson streams. Ollama reports most failures of a started stream as a
 * `{"error":"..."}` line with status 200 (routes.go streamResponse), and its own Go client accepts a truncated stream
 * (api/client.go): here any error line fails with its message, a line that is not a JSON object fails with
 * "bad_json", and a stream that ends before the final object fails with "truncated". Input chunks may split lines
 * and multi-byte characters anywhere. Returns the final object; whatever follows it is not read.
 */
export async function readNdjson(
  source: AsyncIterable<Uint8Array | string>,
  options: ReadNdjsonOptions,
): Promise<NdjsonObject> {
  const maxLineLength = options.maxLineLength ?? 1 << 20;
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let buffered = '';
  let lines = 0;
  let last: NdjsonObject | undefined;

  const handle = (line: string): NdjsonObject | undefined => {
    const text = line.trim();
    if (text === '') return undefined;
    lines++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new OllamaError(
        'bad_json',
        `stream line ${lines} is not JSON: ${preview(text)}`,
        withStatus(options, cause),
      );
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new OllamaError(
        'bad_json',
        `stream line ${lines} is not a JSON object: ${preview(text)}`,
        withStatus(options),
      );
    }
    const object = value as NdjsonObject;
    if (object.error !== undefined && object.error !== null && object.error !== '') {
      const message = typeof object.error === 'string' ? object.error : JSON.stringify(object.error);
      throw new OllamaError('stream_error', message, withStatus(options));
    }
    options.onValue?.(object);
    last = object;
    return !options.toEnd && options.isFinal(object) ? object : undefined;
  };

  for await (const chunk of source) {
    buffered += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const final = handle(line);
      if (final) return final;
    }
    if (buffered.length > maxLineLength) {
      throw new OllamaError(
        'bad_json',
        `stream line ${lines + 1} exceeds ${maxLineLength} characters`,
        withStatus(options),
      );
    }
  }
  // The last line may lack its newline.
  buffered += decoder.decode();
  const final = handle(buffered);
  if (final) return final;
  if (options.toEnd && last !== undefined && options.isFinal(last)) return last;
  throw new OllamaError(
    'truncated',
    `stream ended after ${lines} line(s) without its final ${lines === 0 ? 'object' : 'status'}`,
    withStatus(options),
  );
}

function withStatus(options: ReadNdjsonOptions, cause?: unknown): { cause?: unknown; status?: number } {
  return {
    ...(cause !== undefined ? { cause } : {}),
    ...(options.status !== undefined ? { status: options.status } : {}),
  };
}

function preview(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
