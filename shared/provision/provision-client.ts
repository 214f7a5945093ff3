import type { OllamaClient } from '../ollama/ollama-client.js';

/** The part of OllamaClient provisioning uses (tests and the remediator may pass anything shaped like it). */
export type ProvisionClient = Pick<OllamaClient, 'target' | 'version' | 'show' | 'pull' | 'create' | 'load' | 'unload' | 'ps' | 'generate'>;
