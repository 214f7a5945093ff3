export type FetchStage = 'show' | 'pull' | 'create';

/** A model could not be made present: which step, whether retrying could help, and how many attempts were made. */
export class ProvisionError extends Error {
  constructor(
    readonly model: string,
    readonly stage: FetchStage,
    message: string,
    readonly details: {
      /** Retrying cannot help (unknown model, bad request, authentication). */
      readonly permanent: boolean;
      readonly attempts: number;
      /** OllamaError.reason of the last failure (stream_error, stalled, refused, http_400...). */
      readonly reason: string;
      readonly cause?: unknown;
    },
  ) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'ProvisionError';
  }
}
