import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyNetworkError } from '../../../../shared/ollama/classify-network-error.js';

const withCode = (code: string): Error => Object.assign(new Error(code), { code });

test('maps socket and TLS error codes to bounded reasons', () => {
  const cases: Record<string, string> = {
    ECONNREFUSED: 'refused',
    ENOTFOUND: 'dns',
    EAI_AGAIN: 'dns',
    ECONNRESET: 'reset',
    EPIPE: 'reset',
    ETIMEDOUT: 'timeout',
    EHOSTUNREACH: 'unreachable',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'tls',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tls',
    SELF_SIGNED_CERT_IN_CHAIN: 'tls',
    ERR_TLS_CERT_ALTNAME_INVALID: 'tls',
    ERR_SSL_WRONG_VERSION_NUMBER: 'tls',
    CERT_HAS_EXPIRED: 'tls',
    EWHATEVER: 'network',
  };
  for (const [code, reason] of Object.entries(cases)) assert.equal(classifyNetworkError(withCode(code)), reason, code);
});

test('looks into fetch-style causes and handles code-less errors', () => {
  assert.equal(classifyNetworkError(new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') })), 'refused');
  assert.equal(classifyNetworkError(new Error('boom')), 'network');
  assert.equal(classifyNetworkError('string'), 'network');
  assert.equal(classifyNetworkError(null), 'network');
});
