import { rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { MultiarchError } from '../errors';
import { platformString, type PlatformSpec } from '../platform/platforms';
import { writeDirAtomically } from '../util/atomic';
import { outputDir } from '../outputs/paths';
import { findCrossBinary, findImageDir } from '../outputs/find-artifacts';
import { encodeTestContext, type TestContext } from './env';
import { DEFAULT_TEST_MATCH, findTestFiles, testRoots } from './find-tests';
import { resolveImage } from './image-ref';
import { runJest } from './jest-run';
import { junitReport, junitXml, reportCounts, type JunitCounts } from './junit';
import { killLeftovers } from './pid-registry';
import { preflight } from './preflight';
import type { RunnerChoice, RunnerName } from './types';
import { makeSystemTempDir } from '../util/system-temp';

/**
 * What the arch-integration executor does, as one library call: check the
 * runner can work here, find the images and binaries the tests need for the
 * arch, run the project's arch tests with Jest, and write JUnit XML to
 * dist/test-results/<project>/<arch>/ atomically (also when tests fail, so
 * CI shows which).
 */
export interface ArchIntegrationRequest {
  workspaceRoot: string;
  project: string;
  /** Absolute project root. */
  projectRoot: string;
  /** The --arch value as given (it names the output folders). */
  archGiven: string;
  platform: PlatformSpec;
  runner: RunnerChoice;
  /** Test the project's own image (dist/images/<project>/<arch>); false for a project that ships only binaries. */
  image: boolean;
  /** Other images the tests start: name -> project. */
  images: Record<string, string>;
  /** Per-arch binaries: name -> `<project>/<file>` under dist/cross/<project>/<arch>/. */
  binaries: Record<string, string>;
  testMatch?: string[];
  dockerHost?: string;
  emulateHost?: boolean;
  testTimeoutMs?: number;
  readyTimeoutMs?: number;
  timeoutMs?: number;
  maxWorkers?: number;
  /** Address of this machine as the remote engine's containers reach it. */
  testHostAddress?: string;
  env?: NodeJS.ProcessEnv;
}

export interface ArchIntegrationResult {
  success: boolean;
  runner: RunnerName;
  junitFile: string;
  counts: JunitCounts;
  testFiles: string[];
}

/** Summary written beside junit.xml (for reports and the benchmark script). */
export interface TestResultSummary {
  project: string;
  arch: string;
  platform: string;
  runner: RunnerName;
  imageDigest?: string;
  success: boolean;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  /** Sum of the test files' durations. */
  seconds: number;
}

/** `auto` is remote when a docker host is given for the run, otherwise the daemonless qemu runner. */
export function chooseRunner(choice: RunnerChoice, dockerHost: string | undefined): RunnerName {
  if (choice === 'auto') return dockerHost ? 'remote' : 'qemu';
  return choice;
}

/** `<project>/<file>` (under dist/cross/<project>/<arch>/) or an absolute path. */
function splitBinarySpec(spec: string): { project: string; file: string } {
  const slash = spec.indexOf('/');
  if (slash <= 0) {
    throw new MultiarchError(`Binary "${spec}" is not <project>/<file>.`, 'Name binaries as <project>/<file>, e.g. linkerd2-cli/linkerd for dist/cross/linkerd2-cli/<arch>/linkerd.');
  }
  return { project: spec.slice(0, slash), file: spec.slice(slash + 1) };
}

export async function runArchIntegration(request: ArchIntegrationRequest): Promise<ArchIntegrationResult> {
  const env = request.env ?? process.env;
  const dockerHost = request.dockerHost ?? (request.runner === 'remote' ? env.DOCKER_HOST : undefined);
  const runner = chooseRunner(request.runner, dockerHost);
  const { platform } = request;
  await preflight({ runner, platform, dockerHost, emulateHost: request.emulateHost, env });

  const testMatch = request.testMatch && request.testMatch.length > 0 ? request.testMatch : DEFAULT_TEST_MATCH;
  const testFiles = await findTestFiles(request.projectRoot, testMatch);
  if (testFiles.length === 0) {
    throw new MultiarchError(
      `Project ${request.project} has no arch integration tests matching ${testMatch.join(', ')} under ${request.projectRoot}.`,
      'Add a test file such as integration/<name>.arch.test.ts, or set the testMatch option.',
    );
  }

  // Every image the tests need must exist and hold this platform before Jest starts.
  let imageLayout: string | undefined;
  let imageDigest: string | undefined;
  if (request.image) {
    imageLayout = await findImageDir(request.workspaceRoot, request.project, request.archGiven);
    imageDigest = (await resolveImage(imageLayout, platform)).manifestDigest;
  }
  const images: Record<string, string> = {};
  for (const [name, project] of Object.entries(request.images)) {
    images[name] = await findImageDir(request.workspaceRoot, project, request.archGiven);
    await resolveImage(images[name], platform);
  }
  const binaries: Record<string, string> = {};
  for (const [name, spec] of Object.entries(request.binaries)) {
    if (isAbsolute(spec)) {
      binaries[name] = spec;
    } else {
      const { project, file } = splitBinarySpec(spec);
      binaries[name] = await findCrossBinary(request.workspaceRoot, project, file, request.archGiven);
    }
  }

  const workDir = await makeSystemTempDir('it', request.project);
  try {
    const context: TestContext = {
      project: request.project,
      arch: platform.arch,
      archGiven: request.archGiven,
      workspaceRoot: request.workspaceRoot,
      platform: platformString(platform.oci),
      runner,
      imageLayout,
      images,
      binaries,
      workDir,
      dockerHost,
      emulateHost: request.emulateHost ?? false,
      readyTimeoutMs: request.readyTimeoutMs,
      testHostAddress: request.testHostAddress ?? '127.0.0.1',
    };
    const outcome = await runJest({
      workspaceRoot: request.workspaceRoot,
      projectRoot: request.projectRoot,
      testFiles,
      roots: testRoots(request.projectRoot, testMatch),
      testMatch,
      env: encodeTestContext(context),
      testTimeoutMs: request.testTimeoutMs ?? 120_000,
      maxWorkers: request.maxWorkers ?? 1,
      timeoutMs: request.timeoutMs ?? 30 * 60_000,
      resultsFile: join(workDir, 'jest-results.json'),
    });
    const leftovers = killLeftovers(workDir);
    if (leftovers > 0) console.warn(`arch-integration: ended ${leftovers} process group(s) the tests left running.`);
    if (!outcome.results) {
      throw new MultiarchError(
        outcome.timedOut
          ? `The integration tests of ${request.project} for ${platform.arch} did not finish within ${request.timeoutMs ?? 30 * 60_000} ms and were stopped.`
          : `Jest ended (exit code ${outcome.exitCode}) without writing results:\n${outcome.stderrTail}`,
        outcome.timedOut ? 'A test is hanging; raise the timeoutMs option only if the run is just slow.' : 'Read the Jest output above.',
      );
    }
    const properties: Record<string, string> = { project: request.project, arch: platform.arch, platform: context.platform, runner };
    if (imageDigest) properties.image = imageDigest;
    const report = junitReport(outcome.results, request.projectRoot, `${request.project} ${context.platform} (${runner})`, properties);
    const counts = reportCounts(report);
    const success = outcome.results.success && outcome.exitCode === 0 && !outcome.timedOut && counts.failures === 0 && counts.errors === 0;
    const summary: TestResultSummary = {
      project: request.project,
      arch: platform.arch,
      platform: context.platform,
      runner,
      ...(imageDigest ? { imageDigest } : {}),
      success,
      tests: counts.tests,
      failures: counts.failures,
      errors: counts.errors,
      skipped: counts.skipped,
      seconds: Number(counts.seconds.toFixed(3)),
    };
    const resultsDir = outputDir(request.workspaceRoot, 'test-results', request.project, request.archGiven);
    await writeDirAtomically(resultsDir, async (dir) => {
      await writeFile(join(dir, 'junit.xml'), junitXml(report));
      await writeFile(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    });
    return { success, runner, junitFile: join(resultsDir, 'junit.xml'), counts, testFiles };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
