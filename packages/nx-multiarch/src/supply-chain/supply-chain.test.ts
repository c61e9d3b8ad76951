import { generateKeyPairSync } from 'node:crypto';
import { parseCargoLock } from './cargo-lock';
import { decryptCosignKey, encryptCosignKey } from './cosign-key';
import { dssePae, simpleSigningPayload } from './cosign-objects';
import { parseDpkgStatus } from './dpkg-status';
import { parseGoVersionM } from './go-modules';
import { KeySigner } from './signer';

describe('cosign key format', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('decrypts what it encrypts, and the signer signs with that key', async () => {
    const pem = await encryptCosignKey(privateKey, 'pw', 1024);
    expect(pem).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    const key = await decryptCosignKey(pem, 'pw', 'test');
    const signer = new KeySigner(key);
    const data = Buffer.from('hello');
    expect(signer.recognises(data, await signer.sign(data))).toBe(true);
    expect(signer.recognises(Buffer.from('other'), await signer.sign(data))).toBe(false);
  });

  it('names a wrong password and a non-cosign PEM without echoing either', async () => {
    const pem = await encryptCosignKey(privateKey, 'right', 1024);
    await expect(decryptCosignKey(pem, 'wrong', 'file k.key')).rejects.toThrow('Wrong password for the signing key from file k.key.');
    const plain = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await expect(decryptCosignKey(plain, 'x', 'file k.key')).rejects.toThrow(/is a "PRIVATE KEY" PEM block, not a cosign private key/);
  });
});

describe('documents', () => {
  it('writes the simple signing payload with cosign\'s key order and the DSSE PAE', () => {
    expect(simpleSigningPayload('r/x', `sha256:${'a'.repeat(64)}`).toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"r/x"},"image":{"docker-manifest-digest":"sha256:${'a'.repeat(64)}"},"type":"cosign container image signature"},"optional":null}`,
    );
    expect(dssePae('t', Buffer.from('ab')).toString()).toBe('DSSEv1 1 t 2 ab');
  });

  it('reads go version -m, Cargo.lock and dpkg status', () => {
    const go = parseGoVersionM('bin-a: go1.26.0\n\tpath\texample.com/a\n\tmod\texample.com/a\t(devel)\t\n\tdep\tgolang.org/x/sys\tv0.1.0\th1:abc=\n\tdep\texample.com/b\tv1.0.0\n\t=>\t./b\t(devel)\t\n\tbuild\t-compiler=gc\n', 'bin/a');
    expect(go).toEqual({
      file: 'bin/a',
      goVersion: 'go1.26.0',
      mainPath: 'example.com/a',
      main: { path: 'example.com/a', version: '(devel)' },
      deps: [
        { path: 'golang.org/x/sys', version: 'v0.1.0', sum: 'h1:abc=' },
        { path: './b', version: '(devel)' },
      ],
    });
    expect(parseCargoLock('version = 3\n\n[[package]]\nname = "a"\nversion = "1.0.0"\nsource = "registry+x"\nchecksum = "ff"\n\n[[package]]\nname = "b"\nversion = "0.1.0"\n\n[metadata]\n')).toEqual([
      { name: 'a', version: '1.0.0', source: 'registry+x', checksum: 'ff' },
      { name: 'b', version: '0.1.0' },
    ]);
    expect(parseDpkgStatus('Package: a\nStatus: install ok installed\nVersion: 1\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 2\n')).toEqual([{ name: 'a', version: '1' }]);
  });
});
