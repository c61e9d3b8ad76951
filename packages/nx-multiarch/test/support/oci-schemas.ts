import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Ajv from 'ajv-draft-04';
import type { ValidateFunction } from 'ajv';
import { OciLayoutReader } from '../../src/oci/layout';
import { MediaTypes, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from '../../src/oci/types';

/**
 * Validation of OCI documents against the image-spec's own JSON schemas
 * (draft-04), for tests: oci-layout, index.json, every manifest and index
 * below it, every config. The schemas are the `schema/` folder of the
 * github.com/opencontainers/image-spec Go module, fetched through the Go
 * module proxy at the version pinned in oci-image-spec/go.mod (and checked
 * against its go.sum), so a clone needs nothing beside the repository.
 */
export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');
export const OCI_IMAGE_SPEC_MODULE = 'github.com/opencontainers/image-spec';
/** The folder whose go.mod pins the image-spec version: the one place to change it. */
export const OCI_IMAGE_SPEC_PIN = join(__dirname, 'oci-image-spec');

let schemaDir: string | undefined;

/** What `go mod download -json` says of one module. */
interface GoModDownload {
  Path: string;
  Version: string;
  Dir?: string;
  Error?: string;
}

/**
 * The schema folder of the pinned image-spec: from the module cache when it
 * is there, else downloaded through GOPROXY (tools/setup.sh fetches it ahead).
 */
export function ociSchemaDir(): string {
  if (schemaDir) return schemaDir;
  let output: string;
  try {
    output = execFileSync('go', ['mod', 'download', '-json', OCI_IMAGE_SPEC_MODULE], {
      cwd: OCI_IMAGE_SPEC_PIN,
      encoding: 'utf8',
      timeout: 120_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    // go prints the JSON (with Error) on stdout even when it fails.
    output = err.stdout ?? '';
    if (!output) throw new Error(`go mod download ${OCI_IMAGE_SPEC_MODULE} in ${OCI_IMAGE_SPEC_PIN} failed: ${err.stderr ?? err.message}. Install Go and make GOPROXY reachable (go env GOPROXY).`);
  }
  const result = JSON.parse(output) as GoModDownload;
  if (result.Error || !result.Dir) {
    throw new Error(`${OCI_IMAGE_SPEC_MODULE}@${result.Version} could not be fetched through GOPROXY: ${result.Error ?? 'no Dir'}. Check go env GOPROXY, or fill the module cache with "go mod download" in ${OCI_IMAGE_SPEC_PIN}.`);
  }
  const dir = join(result.Dir, 'schema');
  if (!existsSync(join(dir, 'image-manifest-schema.json'))) throw new Error(`${OCI_IMAGE_SPEC_MODULE}@${result.Version} has no schema/image-manifest-schema.json in ${result.Dir}.`);
  schemaDir = dir;
  return dir;
}

export type OciDocumentKind = 'layout' | 'index' | 'manifest' | 'config';

const SCHEMA_FILES: Record<OciDocumentKind, string> = {
  layout: 'image-layout-schema.json',
  index: 'image-index-schema.json',
  manifest: 'image-manifest-schema.json',
  config: 'config-schema.json',
};

let validators: Record<OciDocumentKind, ValidateFunction> | undefined;

/** The schemas carry absolute `id`s; they refer to each other by file name, so they are registered by file name. */
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([k]) => k !== 'id').map(([k, v]) => [k, withoutIds(v)]));
  }
  return value;
}

function load(): Record<OciDocumentKind, ValidateFunction> {
  if (!validators) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    // The two formats the schemas use (ajv-formats is not a dependency).
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    ajv.addFormat('uri', (value: string) => URL.canParse(value));
    const dir = ociSchemaDir();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      ajv.addSchema(withoutIds(JSON.parse(readFileSync(join(dir, file), 'utf8'))) as object, file);
    }
    const entries = Object.entries(SCHEMA_FILES).map(([kind, file]) => {
      const validate = ajv.getSchema(file);
      if (!validate) throw new Error(`OCI schema ${file} did not load from ${dir}`);
      return [kind, validate as ValidateFunction] as const;
    });
    validators = Object.fromEntries(entries) as Record<OciDocumentKind, ValidateFunction>;
  }
  return validators;
}

/** Throws with ajv's errors when the document does not validate. */
export function expectValidOci(kind: OciDocumentKind, document: unknown, what: string = kind): void {
  const validate = load()[kind];
  if (!validate(document)) throw new Error(`${what} does not validate against ${SCHEMA_FILES[kind]}: ${JSON.stringify(validate.errors, null, 1)}`);
}

export interface ValidatedImage {
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
}

export interface ValidatedLayout {
  index: ImageIndex;
  images: ValidatedImage[];
}

/** Validates a whole layout: oci-layout, index.json, and every manifest, nested index and config (blobs checked against digests). */
export async function validateLayout(dir: string): Promise<ValidatedLayout> {
  expectValidOci('layout', JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8')), `${dir}/oci-layout`);
  const reader = new OciLayoutReader(dir);
  const index = await reader.readIndex();
  expectValidOci('index', index, `${dir}/index.json`);
  const images: ValidatedImage[] = [];
  const visit = async (descriptors: Descriptor[]): Promise<void> => {
    for (const descriptor of descriptors) {
      const document = await reader.readJson<unknown>(descriptor.digest);
      if (descriptor.mediaType === MediaTypes.ociIndex) {
        expectValidOci('index', document, `index ${descriptor.digest}`);
        await visit((document as ImageIndex).manifests);
        continue;
      }
      expectValidOci('manifest', document, `manifest ${descriptor.digest}`);
      const manifest = document as ImageManifest;
      const config = await reader.readJson<ImageConfig>(manifest.config.digest);
      expectValidOci('config', config, `config ${manifest.config.digest}`);
      for (const layer of manifest.layers) await reader.readBlob(layer.digest);
      images.push({ descriptor, manifest, config });
    }
  };
  await visit(index.manifests);
  return { index, images };
}
