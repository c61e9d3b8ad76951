import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { tool } from '../images/helpers';

/**
 * The real readers of the SBOMs the plugin writes:
 *  - the SPDX 2.3 JSON schema itself (the file the SPDX project ships in its
 *    tools-java jar; tools/setup.sh puts it in .cache/spdx-schema), with ajv;
 *  - the SPDX project's reader and validator (spdx-tools, `pyspdxtools`, in
 *    .cache/spdx-venv), which also checks what a schema cannot (references);
 *  - CycloneDX's own JSON schema validator, shipped with its library.
 */
const CACHE = join(resolve(__dirname, '../../../..'), '.cache');
export const PYSPDXTOOLS = join(CACHE, 'spdx-venv', 'bin', 'pyspdxtools');
export const SPDX_SCHEMA = join(CACHE, 'spdx-schema', 'spdx-schema-v2.3.json');

export function requirePyspdxtools(): string {
  if (!existsSync(PYSPDXTOOLS)) throw new Error(`${PYSPDXTOOLS} is missing: run bash tools/setup.sh (it installs spdx-tools into .cache/spdx-venv).`);
  return PYSPDXTOOLS;
}

/** Resolves when pyspdxtools accepts the document; rejects with its messages otherwise. */
export async function validateSpdx(file: string): Promise<string> {
  return tool(requirePyspdxtools(), ['--infile', file], 120_000);
}

let spdxSchema: ReturnType<Ajv2019['compile']> | undefined;

/** The SPDX 2.3 schema's verdict: the list of violations, empty when the document is valid. */
export function spdxSchemaErrors(doc: unknown): string[] {
  if (!spdxSchema) {
    if (!existsSync(SPDX_SCHEMA)) throw new Error(`${SPDX_SCHEMA} is missing: run bash tools/setup.sh (it fetches the SPDX 2.3 JSON schema).`);
    const ajv = new Ajv2019({ allErrors: true, strict: false });
    addFormats(ajv);
    spdxSchema = ajv.compile(JSON.parse(readFileSync(SPDX_SCHEMA, 'utf8')) as object);
  }
  if (spdxSchema(doc)) return [];
  return (spdxSchema.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}

/** CycloneDX's strict JSON validator for spec 1.6: undefined when valid, else its errors. */
export async function cycloneDxErrors(text: string): Promise<unknown> {
  const errors: unknown = await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(text);
  return errors ?? undefined;
}
