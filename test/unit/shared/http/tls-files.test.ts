import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigIssues } from '../../../../shared/config/config-issues.js';
import { checkCaFile, checkTlsFiles, readTlsFiles } from '../../../../shared/http/tls-files.js';
import { TEST_CA_PEM, TEST_SERVER_CERT_PEM, TEST_SERVER_KEY_PEM } from '../../../helpers/tls-fixture.js';
import { tempDir } from '../../../helpers/temp-dir.js';

describe('TLS files', () => {
  it('takes a certificate with its own key; names every problem of a bad pair, per file', async () => {
    const t = await tempDir('tls-files');
    try {
      const file = (name: string, text: string) => (writeFileSync(join(t.dir, name), text), join(t.dir, name));
      const cert = file('cert.pem', TEST_SERVER_CERT_PEM);
      const key = file('key.pem', TEST_SERVER_KEY_PEM);
      assert.equal(readTlsFiles(cert, key).cert.toString(), TEST_SERVER_CERT_PEM);
      const other = file(
        'other-key.pem',
        String(
          generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
        ),
      );
      const issues = new ConfigIssues();
      checkTlsFiles('exporter', cert, other, issues);
      checkTlsFiles('remediator', join(t.dir, 'missing.pem'), file('garbage.pem', 'hello\n'), issues);
      assert.deepEqual(
        issues.list.map((i) => `${i.path}: ${i.problem.replace(/ \(.*\)$/, '')}`),
        [
          `exporter.tls_key_file: ${other} is not the private key of ${cert}`,
          `remediator.tls_cert_file: ${join(t.dir, 'missing.pem')} does not exist`,
          `remediator.tls_key_file: ${join(t.dir, 'garbage.pem')} is not a PEM private key without a passphrase`,
        ],
      );
      const ca = new ConfigIssues();
      checkCaFile('ollama[0].ca_file', file('ca.pem', TEST_CA_PEM), ca);
      checkCaFile('ollama[1].ca_file', key, ca);
      assert.deepEqual(
        ca.list.map((i) => i.path),
        ['ollama[1].ca_file'],
      );
    } finally {
      await t.remove();
    }
  });
});
