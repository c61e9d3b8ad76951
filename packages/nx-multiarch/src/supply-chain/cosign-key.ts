import { createPrivateKey, createPublicKey, randomBytes, scrypt, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import nacl from 'tweetnacl';
import { MultiarchError } from '../errors';

/**
 * cosign's private key file: a PEM block "ENCRYPTED SIGSTORE PRIVATE KEY"
 * (older cosign: "ENCRYPTED COSIGN PRIVATE KEY") holding JSON
 *   { kdf: { name: "scrypt", params: { N, r, p }, salt },
 *     cipher: { name: "nacl/secretbox", nonce }, ciphertext }
 * (byte fields base64). The 32-byte secretbox key is scrypt(password, salt);
 * the plaintext is the PKCS#8 DER of an ECDSA P-256 key. The password comes
 * from COSIGN_PASSWORD, as with cosign itself.
 *
 * Neither the key nor the password is ever put into a message: errors say
 * where the key came from (a file path or an environment variable name).
 */
export const KEY_PEM_TYPES = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'];

interface EncryptedKeyJson {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

export interface LoadedKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Where it came from, for messages (never the key itself). */
  origin: string;
}

function pemBody(text: string, origin: string): { type: string; der: Buffer } {
  const match = /-----BEGIN ([A-Z ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!match) throw new MultiarchError(`The signing key from ${origin} is not a PEM file.`, 'Give the cosign.key file that "cosign generate-key-pair" wrote.');
  return { type: match[1], der: Buffer.from(match[2].replace(/\s+/g, ''), 'base64') };
}

function scryptAsync(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  // scrypt needs 128*N*r bytes; Node refuses above 32 MiB unless maxmem says so.
  return new Promise((resolve, reject) =>
    scrypt(password, salt, 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export async function decryptCosignKey(text: string, password: string, origin: string): Promise<LoadedKey> {
  const { type, der } = pemBody(text, origin);
  if (!KEY_PEM_TYPES.includes(type)) {
    throw new MultiarchError(`The signing key from ${origin} is a "${type}" PEM block, not a cosign private key.`, 'Give the cosign.key file that "cosign generate-key-pair" wrote (its block is ENCRYPTED SIGSTORE PRIVATE KEY).');
  }
  let doc: EncryptedKeyJson;
  try {
    doc = JSON.parse(der.toString('utf8')) as EncryptedKeyJson;
  } catch {
    throw new MultiarchError(`The signing key from ${origin} is damaged (its body is not the JSON cosign writes).`, 'Regenerate it with "cosign generate-key-pair".');
  }
  if (doc.kdf?.name !== 'scrypt' || doc.cipher?.name !== 'nacl/secretbox') {
    throw new MultiarchError(`The signing key from ${origin} uses ${doc.kdf?.name}/${doc.cipher?.name}; only scrypt/nacl-secretbox keys (cosign's format) are read.`, 'Regenerate it with "cosign generate-key-pair".');
  }
  const { N, r, p } = doc.kdf.params;
  const secret = await scryptAsync(password, Buffer.from(doc.kdf.salt, 'base64'), N, r, p);
  const opened = nacl.secretbox.open(new Uint8Array(Buffer.from(doc.ciphertext, 'base64')), new Uint8Array(Buffer.from(doc.cipher.nonce, 'base64')), new Uint8Array(secret));
  if (!opened) {
    throw new MultiarchError(`Wrong password for the signing key from ${origin}.`, 'Set COSIGN_PASSWORD to the password the key was generated with.');
  }
  const privateKey = createPrivateKey({ key: Buffer.from(opened), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey), origin };
}

/** Writes a key in cosign's format (used by tests and by anyone without cosign at hand). */
export async function encryptCosignKey(privateKey: KeyObject, password: string, N = 32768): Promise<string> {
  const salt = randomBytes(32);
  const nonce = randomBytes(nacl.secretbox.nonceLength);
  const secret = await scryptAsync(password, salt, N, 8, 1);
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const ciphertext = nacl.secretbox(new Uint8Array(der), new Uint8Array(nonce), new Uint8Array(secret));
  const body: EncryptedKeyJson = {
    kdf: { name: 'scrypt', params: { N, r: 8, p: 1 }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  };
  const b64 = Buffer.from(JSON.stringify(body)).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${KEY_PEM_TYPES[0]}-----\n${b64.trimEnd()}\n-----END ${KEY_PEM_TYPES[0]}-----\n`;
}

export interface KeySource {
  /** Path of the key file (workspace-relative or absolute). */
  file?: string;
  /** Name of an environment variable holding the PEM text. */
  envVar?: string;
}

/** Reads and decrypts the key; every failure names the source and the fix, never the content. */
export async function loadCosignKey(source: KeySource, env: NodeJS.ProcessEnv, resolvePath: (p: string) => string): Promise<LoadedKey> {
  let text: string;
  let origin: string;
  if (source.file) {
    origin = `file ${source.file}`;
    try {
      text = await readFile(resolvePath(source.file), 'utf8');
    } catch (error) {
      throw new MultiarchError(`Cannot read the signing key ${source.file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}).`, 'Check the signingKey path and that the file is readable.');
    }
  } else if (source.envVar) {
    origin = `environment variable ${source.envVar}`;
    const value = env[source.envVar];
    if (!value) throw new MultiarchError(`The environment variable ${source.envVar} (the signing key) is empty or not set.`, `Put the content of cosign.key into ${source.envVar}, or set signingKey to the file.`);
    text = value;
  } else {
    throw new MultiarchError('Signing was asked for, but no key was given.', 'Set signingKey (a cosign.key file) or signingKeyEnv (an environment variable holding it).');
  }
  const password = env.COSIGN_PASSWORD ?? '';
  return decryptCosignKey(text, password, origin);
}

/** Reads a PEM public key ("PUBLIC KEY", as cosign.pub). */
export async function loadPublicKey(file: string, resolvePath: (p: string) => string): Promise<KeyObject> {
  let text: string;
  try {
    text = await readFile(resolvePath(file), 'utf8');
  } catch (error) {
    throw new MultiarchError(`Cannot read the public key ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}).`, 'Give the cosign.pub that "cosign generate-key-pair" wrote.');
  }
  try {
    return createPublicKey(text);
  } catch {
    throw new MultiarchError(`${file} is not a PEM public key.`, 'Give the cosign.pub that "cosign generate-key-pair" wrote.');
  }
}
