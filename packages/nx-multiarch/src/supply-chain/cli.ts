import { isAbsolute, resolve } from 'node:path';
import { formatError, MultiarchError } from '../errors';
import { RegistryClient } from '../registry/client';
import { parseReference } from '../registry/reference';
import { loadPublicKey } from './cosign-key';
import { formatVerifyTable, verifyImage } from './verify-image';

export const VERIFY_HELP = `Usage: nx-multiarch verify <registry/repository[:tag|@digest]> --key <cosign.pub> [options]

Checks an image pushed by manifest-push, for the index and every arch:
  - a cosign signature by the key whose payload names that manifest;
  - signed SLSA provenance and SPDX SBOM attestations whose subject is that
    per-arch manifest;
  - that the provenance names the expected git revision.
Prints a table; exits 1 when any check fails.

Options:
  --key <file>               the public key (cosign.pub) to verify with (required)
  --revision <sha>           the revision the provenance must name
                             (default: NX_MULTIARCH_REVISION, else not checked)
  --no-attestations          check signatures only
  --insecure-registry <host> reach this registry over plain http (loopback hosts need not be listed)
  -h, --help                 show this text
`;

export interface VerifyCliOptions {
  image?: string;
  key?: string;
  revision?: string;
  attestations: boolean;
  insecureRegistries: string[];
  help: boolean;
}

export function parseVerifyArgs(argv: readonly string[]): VerifyCliOptions {
  const options: VerifyCliOptions = { attestations: true, insecureRegistries: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new MultiarchError(`${name} needs a value.`, 'run `nx-multiarch verify --help` for the options.');
      return v;
    };
    if (name === '-h' || name === '--help') options.help = true;
    else if (name === '--key') options.key = value();
    else if (name === '--revision') options.revision = value();
    else if (name === '--no-attestations') options.attestations = false;
    else if (name === '--insecure-registry') options.insecureRegistries.push(value());
    else if (!name.startsWith('-') && options.image === undefined) options.image = name;
    else throw new MultiarchError(`Unknown argument "${arg}" for nx-multiarch verify.`, 'run `nx-multiarch verify --help` for the options.');
  }
  return options;
}

/** `nx-multiarch verify`: the exit code for bin/nx-multiarch.js. */
export async function runVerifyCommand(argv: readonly string[], cwd = process.cwd(), env = process.env): Promise<number> {
  let client: RegistryClient | undefined;
  try {
    const options = parseVerifyArgs(argv);
    if (options.help) {
      process.stdout.write(VERIFY_HELP);
      return 0;
    }
    if (!options.image) throw new MultiarchError('No image to verify.', 'Give it as registry/repository:tag, e.g. nx-multiarch verify 127.0.0.1:5000/web:1.0 --key cosign.pub.');
    if (!options.key) throw new MultiarchError('No public key to verify with.', 'Pass --key cosign.pub (the public half of the signing key).');
    const ref = parseReference(options.image);
    const key = await loadPublicKey(options.key, (p) => (isAbsolute(p) ? p : resolve(cwd, p)));
    client = new RegistryClient({ registry: ref.registry, insecureRegistries: options.insecureRegistries, env });
    const result = await verifyImage(client, ref.repository, ref.digest ?? ref.tag ?? 'latest', key, {
      expectedRevision: options.revision ?? (env.NX_MULTIARCH_REVISION || undefined),
      requireAttestations: options.attestations,
    });
    process.stdout.write(`${formatVerifyTable(result)}\n`);
    return result.ok ? 0 : 1;
  } catch (error) {
    process.stderr.write(`nx-multiarch verify: ${formatError(error)}\n`);
    return 1;
  } finally {
    client?.close();
  }
}
