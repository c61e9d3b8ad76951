import { extname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { MultiarchError } from '../errors';
import { LAYER_BLOCKS } from './gzip-blocks';
import { writeLayer, type LayerEntry, type LayerOptions, type WrittenLayer } from './layer';
import { OciLayoutWriter } from './layout';

/**
 * A big layer written on a thread of its own: the same writeLayer, the same
 * bytes, in a fresh V8 isolate that holds only the layer code.
 *
 * Why: every byte of a layer passes through the JavaScript thread as 1 MiB
 * buffers (file chunks), and V8 counts them as memory outside its heap. In
 * an executor's process, whose heap already holds the plugin and Nx, that
 * kept V8 starting one full collection after another: about 200 for a
 * 3 GiB layer, 2 to 2.6 CPU s on V8's helper threads. In an isolate whose
 * heap is a few MB, V8 never starts one (it does not for heaps under 8 MB),
 * and the same write took 5.7 s instead of 6.8 to 7.7 s (measured with the
 * plugin's modules loaded beside it, as in an executor).
 *
 * Only layers past the leading single gzip stream (64 MiB) go there; a small
 * layer would pay the thread's start (tens of ms) for nothing.
 */

/** Bytes of entry content from which a layer is written on its own thread. */
export const LAYER_THREAD_THRESHOLD = LAYER_BLOCKS.first;

/** The bytes of file content a layer's entries hold. */
export function layerContentBytes(entries: readonly LayerEntry[]): number {
  return entries.reduce((sum, entry) => sum + (entry.source?.size ?? entry.content?.length ?? 0), 0);
}

interface ThreadRequest {
  entries: readonly LayerEntry[];
  options: LayerOptions;
  layoutDir: string;
}

/** An error as it crosses back: what the plugin's errors carry (message, hint) and what Node's carry (code). */
interface ThreadError {
  name: string;
  message: string;
  hint?: string;
  code?: string;
}

type ThreadReply = { layer: WrittenLayer } | { error: ThreadError };

/**
 * The thread's program: load this module and run one layer write. Compiled
 * JavaScript loads as it is. From the TypeScript sources (the tests, and Nx
 * running this repository's own plugin) the thread compiles them with
 * TypeScript's transpileModule, which is plain JavaScript. Not with
 * @swc-node/register, which the tests' child processes use: it loads swc's
 * native addon into the thread, and ending a thread that holds it crashed
 * the whole process with SIGSEGV (2 of 6 runs of src/oci/layer*.test.ts on
 * Node 20.20; 0 of 6 with transpileModule).
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.typescript) {
  const ts = require(workerData.typescript);
  const { readFileSync } = require('node:fs');
  const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
  require.extensions['.ts'] = (module, filename) =>
    module._compile(ts.transpileModule(readFileSync(filename, 'utf8'), { fileName: filename, compilerOptions }).outputText, filename);
}
require(workerData.module).writeLayerHere(workerData.request).then(
  (layer) => parentPort.postMessage({ layer }),
  (error) => parentPort.postMessage({ error: { name: String(error && error.name), message: String(error && error.message ? error.message : error), hint: error && error.hint, code: error && error.code } }),
);
`;

/** Entries as structured cloning delivers them (Buffers arrive as plain Uint8Arrays), made Buffers again. */
function reviveEntries(entries: readonly LayerEntry[]): LayerEntry[] {
  const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return entries.map((entry) => ({
    ...entry,
    ...(entry.content ? { content: asBuffer(entry.content) } : {}),
    ...(entry.xattrs ? { xattrs: Object.fromEntries(Object.entries(entry.xattrs).map(([name, value]) => [name, asBuffer(value)])) } : {}),
  }));
}

/** The thread's side: exported for THREAD_SOURCE only. */
export async function writeLayerHere(request: ThreadRequest): Promise<WrittenLayer> {
  return writeLayer(reviveEntries(request.entries), request.options, new OciLayoutWriter(request.layoutDir));
}

function rebuildError(error: ThreadError): Error {
  if (error.hint !== undefined) {
    const rebuilt = new MultiarchError(error.message, error.hint);
    rebuilt.name = error.name;
    return rebuilt;
  }
  const rebuilt: NodeJS.ErrnoException = new Error(error.message);
  if (error.code) rebuilt.code = error.code;
  return rebuilt;
}

/** writeLayer on its own thread, for the layout at `layoutDir` (already initialised). */
export function writeLayerOnThread(entries: readonly LayerEntry[], options: LayerOptions, layoutDir: string): Promise<WrittenLayer> {
  const fromSources = extname(__filename) === '.ts';
  const request: ThreadRequest = { entries, options, layoutDir };
  const worker = new Worker(THREAD_SOURCE, {
    eval: true,
    execArgv: [],
    workerData: { module: __filename, typescript: fromSources ? require.resolve('typescript') : undefined, request },
  });
  return new Promise<WrittenLayer>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
      // One layer per thread: it ends as soon as the answer is in (its block workers with it).
      void worker.terminate();
    };
    worker.on('message', (reply: ThreadReply) => settle(() => ('layer' in reply ? resolve(reply.layer) : reject(rebuildError(reply.error)))));
    worker.on('error', (error: Error) => settle(() => reject(new MultiarchError(`The layer's writer thread failed: ${error.message}.`, 'Run the build again; if it keeps failing, report it with this message.'))));
    worker.on('exit', (code: number) =>
      settle(() => reject(new MultiarchError(`The layer's writer thread exited (code ${code}) before the layer was written.`, 'Run the build again; if it keeps failing, report it with this message.'))),
    );
  });
}

/** writeLayer, on its own thread when the layer is big enough for that to pay. */
export function writeLayerBySize(entries: readonly LayerEntry[], options: LayerOptions, writer: OciLayoutWriter): Promise<WrittenLayer> {
  if (layerContentBytes(entries) <= LAYER_THREAD_THRESHOLD) return writeLayer(entries, options, writer);
  return writeLayerOnThread(entries, options, writer.dir);
}
