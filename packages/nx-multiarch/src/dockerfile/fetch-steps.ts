import { posix } from 'node:path';
import { MultiarchError } from '../errors';
import { expandShellWord, tokenizeShell, type ShellLookup } from './shell-words';

/**
 * The download idioms of Dockerfiles, read as data (pure): a RUN line made
 * of `curl`/`wget` downloads, `sha256sum -c` checks, `tar -x` extractions
 * and the small file commands around them (`mkdir -p`, `mv`, `rm`, `chmod`,
 * `cd`), joined by `&&`, `;` or new lines; and `ADD <url> <dest>`. Linkerd's
 * proxy image fetches its proxy this way:
 *
 *   RUN curl -fsSLo proxy.tar.gz "$URL/linkerd2-proxy-${VERSION}-${TARGETARCH}.tar.gz" \
 *    && curl -fsSLo proxy.txt "$URL/linkerd2-proxy-${VERSION}-${TARGETARCH}.txt" \
 *    && sha256sum -c proxy.txt && tar -xzf proxy.tar.gz --strip-components=1
 *
 * The native engine then serves each download from the workspace package it
 * is mapped to (see download-map.ts) instead of the network. A RUN line with
 * a download and anything else (pipes into a shell, `$(…)`, other programs)
 * is not a fetch: it is refused with the command that is not understood.
 */

export type FetchStep =
  | { op: 'download'; url: string; to: string }
  | { op: 'sha256-check'; listFile: string; cwd: string }
  | { op: 'sha256-inline'; sha256: string; file: string }
  | { op: 'extract'; archive: string; dir: string; strip: number; members: string[] }
  | { op: 'mkdir'; path: string }
  | { op: 'move'; from: string; to: string }
  | { op: 'remove'; path: string }
  | { op: 'chmod'; mode: string; path: string };

export type FetchRecognition =
  /** Not a download at all (no curl/wget): some other reader may know the line. */
  | { kind: 'none' }
  | { kind: 'fetch'; steps: FetchStep[]; urls: string[] }
  /** A download among commands the native engine cannot model. */
  | { kind: 'refused'; reason: string };


const URL_PATTERN = /^(https?|ftp):\/\//i;

interface SimpleCommand {
  /** The words, expanded. */
  words: string[];
  /** The words as written, for messages. */
  text: string;
  /** Its standard input is the previous command's output (`|`). */
  pipedFrom: boolean;
}

/**
 * The simple commands of a RUN line (shell-words.ts reads the shell):
 * split at `&&`, `;`, `|` and new lines, words expanded with the stage's
 * variables, output redirected to /dev/null dropped. A reason instead when
 * the line uses what a download step cannot be read from (`||`, `&`,
 * subshells, `$(…)`, other redirections).
 */
function simpleCommands(command: string, lookup: ShellLookup): SimpleCommand[] | string {
  const commands: SimpleCommand[] = [];
  let raw: string[] = [];
  let piped = false;
  const flush = (nextPiped: boolean): string | undefined => {
    const kept: string[] = [];
    for (let i = 0; i < raw.length; i++) {
      const redirect = /^[12]?>>?(.*)$/.exec(raw[i]);
      if (!redirect) {
        kept.push(raw[i]);
        continue;
      }
      const target = redirect[1] || raw[++i];
      if (target !== '/dev/null' && target !== '&1' && target !== '&2') return `"${raw.join(' ')}" redirects output to a file, which a download step cannot be read from`;
    }
    if (kept.length > 0) {
      const words: string[] = [];
      for (const word of kept) {
        const expanded = expandShellWord(word, lookup);
        if (expanded.dynamic) return `"${kept.join(' ')}" uses $(…), backquotes or a \${…} form whose value is not known before it runs`;
        words.push(expanded.value);
      }
      if (words[0] !== 'set') commands.push({ words, text: kept.join(' '), pipedFrom: piped });
    }
    raw = [];
    piped = nextPiped;
    return undefined;
  };
  for (const token of tokenizeShell(command)) {
    let why: string | undefined;
    if (token.kind === 'word') raw.push(token.raw);
    else if (token.op === '&&' || token.op === ';' || token.op === '\n') why = flush(false);
    else if (token.op === '|') why = flush(true);
    else return `the command uses "${token.op}", which a download step cannot be read from (a fallback, a background job or a subshell)`;
    if (why) return why;
  }
  return flush(false) ?? commands;
}

/** curl flags that take a value (the value is skipped). */
const CURL_VALUE_FLAGS = new Set(['--retry', '--retry-delay', '--retry-max-time', '--connect-timeout', '--max-time', '-m', '--proto', '--proto-redir', '-H', '--header', '-A', '--user-agent', '--tlsv1.2', '--cacert']);
const WGET_VALUE_FLAGS = new Set(['--tries', '-t', '--timeout', '-T', '--header', '-U', '--user-agent']);

function fileNameOfUrl(url: string): string {
  return posix.basename(url.split(/[?#]/)[0]);
}

interface Parsed {
  steps: FetchStep[];
  urls: string[];
  /** Whether a word is a URL; read with placeholders (engine choice, graph), `${BASE}/x` counts too. */
  isUrl: (word: string) => boolean;
}

function parseCurl(words: string[], cwd: string, out: Parsed): string | undefined {
  const urls: string[] = [];
  const outputs: Array<string | 'remote-name'> = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (out.isUrl(w)) urls.push(w);
    else if (w === '-o' || w === '--output') outputs.push(words[++i]);
    else if (w.startsWith('--output=')) outputs.push(w.slice('--output='.length));
    else if (w === '-O' || w === '--remote-name') outputs.push('remote-name');
    else if (CURL_VALUE_FLAGS.has(w)) i++;
    else if (/^-[a-zA-Z]+$/.test(w)) {
      // Grouped short flags: `-fsSLo file` — only a final o/O takes a value.
      const letters = w.slice(1);
      if (letters.slice(0, -1).includes('o')) return `curl ${w}: -o must come last in a group of flags`;
      if (letters.endsWith('o')) outputs.push(words[++i]);
      else if (letters.includes('O')) outputs.push('remote-name');
    } else if (w.startsWith('-')) continue;
    else return `curl argument "${w}" is not a URL`;
  }
  if (urls.length === 0) return 'curl without a URL';
  if (outputs.length !== urls.length || outputs.some((o) => o === undefined)) {
    return 'curl that writes to standard output (use -o <file> or -O, one per URL)';
  }
  urls.forEach((url, k) => {
    const o = outputs[k];
    out.steps.push({ op: 'download', url, to: posix.resolve(cwd, o === 'remote-name' ? fileNameOfUrl(url) : o) });
    out.urls.push(url);
  });
  return undefined;
}

function parseWget(words: string[], cwd: string, out: Parsed): string | undefined {
  let output: string | undefined;
  let dir = cwd;
  const urls: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i];
    if (out.isUrl(w)) urls.push(w);
    else if (w === '-O' || w === '--output-document') output = words[++i];
    else if (w.startsWith('--output-document=')) output = w.slice('--output-document='.length);
    else if (w === '-P' || w === '--directory-prefix') dir = posix.resolve(cwd, words[++i] ?? '.');
    else if (WGET_VALUE_FLAGS.has(w)) i++;
    else if (/^-[a-zA-Z]*O$/.test(w)) output = words[++i];
    else if (w.startsWith('-')) continue;
    else return `wget argument "${w}" is not a URL`;
  }
  if (urls.length === 0) return 'wget without a URL';
  if (output === '-') return 'wget that writes to standard output';
  if (output !== undefined && urls.length > 1) return 'wget -O with several URLs';
  for (const url of urls) {
    out.steps.push({ op: 'download', url, to: output !== undefined ? posix.resolve(cwd, output) : posix.join(dir, fileNameOfUrl(url)) });
    out.urls.push(url);
  }
  return undefined;
}

function parseTar(words: string[], cwd: string, out: Parsed): string | undefined {
  let archive: string | undefined;
  let dir = cwd;
  let strip = 0;
  let extract = false;
  const members: string[] = [];
  let i = 1;
  // `tar xzf file` (old style): the first word is a flag group without a dash.
  if (words[1] && /^[a-zA-Z]+$/.test(words[1]) && words[1].includes('x')) words = [words[0], `-${words[1]}`, ...words.slice(2)];
  for (; i < words.length; i++) {
    const w = words[i];
    if (w === '-C' || w === '--directory') dir = posix.resolve(cwd, words[++i] ?? '.');
    else if (w.startsWith('--directory=')) dir = posix.resolve(cwd, w.slice('--directory='.length));
    else if (w.startsWith('--strip-components=')) strip = Number(w.slice('--strip-components='.length));
    else if (w === '--strip-components') strip = Number(words[++i]);
    else if (w === '--file' || w === '-f') archive = words[++i];
    else if (w.startsWith('--file=')) archive = w.slice('--file='.length);
    else if (w === '--extract' || w === '--get') extract = true;
    else if (['--gzip', '--gunzip', '-z', '--no-same-owner', '--no-same-permissions', '-v', '--verbose', '-o', '-p'].includes(w)) continue;
    else if (/^-[a-zA-Z]+$/.test(w)) {
      const letters = w.slice(1);
      if (/[^xzfvop]/.test(letters)) return `tar ${w}: only extraction (-x, -z, -f, -v) is understood`;
      if (letters.includes('x')) extract = true;
      if (letters.includes('f')) {
        if (!letters.endsWith('f')) return `tar ${w}: f must come last in a group of flags`;
        archive = words[++i];
      }
    } else if (w.startsWith('-')) return `tar option ${w} is not understood`;
    else members.push(w);
  }
  if (!extract) return 'tar that does not extract (-x)';
  if (archive === undefined || archive === '-') return 'tar that reads standard input (give the archive with -f <file>)';
  if (!Number.isInteger(strip) || strip < 0) return 'tar --strip-components needs a whole number';
  out.steps.push({ op: 'extract', archive: posix.resolve(cwd, archive), dir, strip, members });
  return undefined;
}

/** One command of a fetch line; returns why it is not understood, or undefined. Updates cwd for `cd`. */
function parseCommand(words: string[], state: { cwd: string }, pipedInput: string | undefined, out: Parsed): string | undefined {
  const [program, ...args] = words;
  const cwd = state.cwd;
  const files = args.filter((a) => !a.startsWith('-'));
  switch (program) {
    case 'curl':
      return parseCurl(words, cwd, out);
    case 'wget':
      return parseWget(words, cwd, out);
    case 'tar':
      return parseTar(words, cwd, out);
    case 'sha256sum': {
      const check = args.includes('-c') || args.includes('--check') || args.some((a) => /^-[a-z]*c[a-z]*$/.test(a));
      if (!check) return 'sha256sum without -c (a hash that nothing checks)';
      const lists = files.filter((f) => f !== '-');
      if (pipedInput !== undefined) {
        const m = /^([0-9a-fA-F]{64})\s+\*?(\S+)$/.exec(pipedInput.trim());
        if (!m || lists.length > 0) return 'sha256sum -c reading a line that is not "<sha256>  <file>"';
        out.steps.push({ op: 'sha256-inline', sha256: m[1].toLowerCase(), file: posix.resolve(cwd, m[2]) });
        return undefined;
      }
      if (lists.length === 0) return 'sha256sum -c without a checksum file';
      for (const list of lists) out.steps.push({ op: 'sha256-check', listFile: posix.resolve(cwd, list), cwd });
      return undefined;
    }
    case 'echo':
    case 'printf':
      return undefined; // only meaningful piped into sha256sum -c (handled by the caller)
    case 'mkdir':
      for (const f of files) out.steps.push({ op: 'mkdir', path: posix.resolve(cwd, f) });
      return undefined;
    case 'mv':
      if (files.length !== 2) return 'mv with other than one source and one destination';
      out.steps.push({ op: 'move', from: posix.resolve(cwd, files[0]), to: posix.resolve(cwd, files[1]) });
      return undefined;
    case 'rm':
      for (const f of files) out.steps.push({ op: 'remove', path: posix.resolve(cwd, f) });
      return undefined;
    case 'chmod':
      if (files.length < 2) return 'chmod without a mode and a file';
      for (const f of files.slice(1)) out.steps.push({ op: 'chmod', mode: files[0], path: posix.resolve(cwd, f) });
      return undefined;
    case 'cd':
      state.cwd = posix.resolve(cwd, files[0] ?? '/');
      return undefined;
    case 'true':
    case ':':
      return undefined;
    default:
      return `${program} is not part of the download idiom (curl/wget, sha256sum -c, tar -x, mkdir, mv, rm, chmod, cd)`;
  }
}

/**
 * Reads a RUN command (shell form, as written) as a fetch. `workdir` is the
 * stage's WORKDIR; `lookup` gives the ARG and ENV values RUN would see.
 * With `placeholders`, variables are expected to stay as written
 * (`${URL}/x.tar.gz`), for reads before the values are known.
 */
export function recogniseFetchRun(command: string, workdir: string, lookup: ShellLookup, placeholders = false): FetchRecognition {
  if (!/(^|[\s;&|(])(curl|wget)\s/.test(command)) return { kind: 'none' };
  const commands = simpleCommands(command, lookup);
  if (typeof commands === 'string') return { kind: 'refused', reason: commands };
  const isUrlWord = (w: string) => URL_PATTERN.test(w) || (placeholders && /^\$\{[A-Za-z_][A-Za-z0-9_]*\}\//.test(w));
  const out: Parsed = { steps: [], urls: [], isUrl: isUrlWord };
  const state = { cwd: workdir || '/' };
  for (const [index, current] of commands.entries()) {
    const next = commands[index + 1];
    if (next?.pipedFrom && (current.words[0] === 'curl' || current.words[0] === 'wget')) {
      return { kind: 'refused', reason: `the download is piped into "${next.text}", which runs or unpacks it where it cannot be checked; write it to a file (-o), check it with sha256sum -c, then extract it` };
    }
    let piped: string | undefined;
    if (current.pipedFrom) {
      const previous = commands[index - 1];
      if (!previous || !['echo', 'printf'].includes(previous.words[0]) || current.words[0] !== 'sha256sum') {
        return { kind: 'refused', reason: `"${current.text}" reads a pipe; only echo "<sha256>  <file>" | sha256sum -c is understood` };
      }
      piped = previous.words.slice(1).filter((w) => !w.startsWith('-')).join(' ');
    }
    const why = parseCommand(current.words, state, piped, out);
    if (why) return { kind: 'refused', reason: why };
  }
  return { kind: 'fetch', steps: out.steps, urls: out.urls };
}

/**
 * The paths a fetch leaves files at (for the stage graph, before it runs):
 * each download, extraction folder, mkdir and mv destination that no later
 * rm removes.
 */
export function fetchOutputs(steps: readonly FetchStep[]): string[] {
  const paths: string[] = [];
  for (const step of steps) {
    if (step.op === 'download' || step.op === 'move') paths.push(step.to);
    else if (step.op === 'extract') paths.push(step.dir);
    else if (step.op === 'mkdir') paths.push(step.path);
    else if (step.op === 'remove') {
      for (let i = paths.length - 1; i >= 0; i--) if (paths[i] === step.path || paths[i].startsWith(`${step.path}/`)) paths.splice(i, 1);
    }
  }
  return [...new Set(paths)];
}

/** `ADD <url> <dest>`: the download step of one URL source, `dest` already absolute (a folder when it ends with /). */
export function addUrlStep(url: string, dest: string, destIsDir: boolean): FetchStep {
  return { op: 'download', url, to: destIsDir ? posix.join(dest, fileNameOfUrl(url)) : dest };
}

export function isUrl(source: string): boolean {
  return URL_PATTERN.test(source);
}

/** The refusal of a download nothing maps, with its line and the ways out. */
export function unmappedDownloadError(line: number, url: string, dockerfileName: string): MultiarchError {
  const file = (() => {
    try {
      return fileNameOfUrl(url);
    } catch {
      return url;
    }
  })();
  // The parts that change between releases and arches become `*`: linkerd2-proxy-v2.1.0-arm64.tar.gz → linkerd2-proxy-*.tar.gz.
  const pattern = file
    .replace(/[-_]v?\d+\.\d+[^-_]*?(?=[-_]|\.tar|\.tgz|\.zip|$)/, '-*')
    .replace(/[-_](linux[-_])?(amd64|arm64|armv7|armhf|arm|x86_64|aarch64|ppc64le|s390x|riscv64)(?=[-_.]|$)/, '-*')
    .replace(/(-\*)+/g, '-*');
  return new MultiarchError(
    `${dockerfileName} line ${line} downloads ${url}, which no downloads entry maps to a workspace target; the native engine does not download at build time.`,
    `If the workspace builds it, map it once in the plugin options or the target: "downloads": { "${pattern}": "<project>:<cargo-cross|go-cross>" }; else put the file in the build context and COPY it, or use engine "docker".`,
  );
}
