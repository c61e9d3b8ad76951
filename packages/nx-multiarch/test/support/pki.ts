import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked } from '../../src/util/exec';

/**
 * Test certificates made with openssl: a CA and a server certificate it signs
 * for 127.0.0.1 (and localhost), and a self-signed key pair a token server
 * signs with. Short-lived; written into a folder the test owns.
 */
export interface TestPki {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

export async function makeServerPki(dir: string): Promise<TestPki> {
  const p = (name: string) => join(dir, name);
  await runChecked('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-keyout', p('ca.key'), '-out', p('ca.crt'), '-subj', '/CN=nx-multiarch test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await runChecked('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1']);
  await writeFile(
    p('server.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  await runChecked('openssl', [
    'x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-days', '2', '-out', p('server.crt'), '-extfile', p('server.ext'),
  ]);
  return { caCert: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key') };
}

/** A self-signed RSA pair for signing tokens; the cert is the registry's rootcertbundle. */
export async function makeSigningPair(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'token.crt');
  const key = join(dir, 'token.key');
  await runChecked('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', key, '-out', cert, '-subj', '/CN=nx-multiarch test token issuer']);
  return { cert, key };
}

/** An htpasswd file with bcrypt entries (distribution accepts only bcrypt). */
export async function makeHtpasswd(path: string, users: Record<string, string>): Promise<void> {
  let first = true;
  for (const [user, password] of Object.entries(users)) {
    await runChecked('htpasswd', [first ? '-Bbc' : '-Bb', path, user, password]);
    first = false;
  }
}
