import { createHash, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { LoadedKey } from './cosign-key';

/**
 * What manifest-push needs from whoever signs: a signature over bytes, the
 * annotations cosign expects beside it, and a way to recognise its own
 * earlier signatures (so a re-push uploads nothing).
 *
 * KeySigner is the one implementation: an ECDSA P-256 key in cosign's file
 * format. Keyless signing plugs in here as another Signer: sign() would get
 * a short-lived certificate from Fulcio for an OIDC token, sign with the
 * ephemeral key, log the signature in Rekor, and signatureAnnotations()
 * would return dev.sigstore.cosign/certificate, .../chain and .../bundle.
 * None of those services can be reached from here, so it is not written.
 */
export interface Signer {
  readonly description: string;
  /** A public name for the signer (a key fingerprint; for keyless, the certificate identity), kept in dist/push. */
  readonly id: string;
  /** An ASN.1 DER ECDSA signature of sha256(data), as cosign writes it (base64'd by the caller). */
  sign(data: Buffer): Promise<Buffer>;
  /** True when `signature` over `data` was made by this signer. */
  recognises(data: Buffer, signature: Buffer): boolean;
  /** Annotations cosign reads beside the signature (certificates, bundles); none for a key. */
  signatureAnnotations(): Record<string, string>;
}

export class KeySigner implements Signer {
  readonly description: string;
  readonly id: string;
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(key: LoadedKey) {
    this.privateKey = key.privateKey;
    this.publicKey = key.publicKey;
    this.id = publicKeyFingerprint(key.publicKey);
    this.description = `key ${this.id} (${key.origin})`;
  }

  async sign(data: Buffer): Promise<Buffer> {
    return cryptoSign('sha256', data, this.privateKey);
  }

  recognises(data: Buffer, signature: Buffer): boolean {
    return verifySignature(this.publicKey, data, signature);
  }

  signatureAnnotations(): Record<string, string> {
    return {};
  }
}

export function verifySignature(publicKey: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    return cryptoVerify('sha256', data, publicKey, signature);
  } catch {
    return false;
  }
}

/** sha256 of the public key's DER, short: names a key in logs without showing it. */
export function publicKeyFingerprint(publicKey: KeyObject): string {
  return `sha256:${createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex').slice(0, 16)}`;
}
