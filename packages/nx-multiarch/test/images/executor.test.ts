import { existsSync } from 'node:fs';
import { join } from 'node:path';
import executor from '../../src/executors/docker-arch-build/executor';
import { captureOutput, fakeExecutorContext } from '../support/executor-context';
import { cleanUpTemp, EPOCH, tempDir, writeFiles } from './helpers';

/** The executor is thin: options in, buildImage, `{ success }` out, errors printed with their fix. */
let ws: string;

beforeAll(async () => {
  ws = join(await tempDir('executor-ws'), 'ws');
  await writeFiles(ws, {
    'apps/site/Dockerfile': 'FROM scratch\nCOPY index.html /srv/\nENTRYPOINT ["/srv/index.html"]\n',
    'apps/site/index.html': '<p>hi</p>\n',
    'apps/site/Broken.Dockerfile': 'FROM scratch\nCOPY missing.txt /srv/\n',
  });
});
afterAll(cleanUpTemp);

const context = () => fakeExecutorContext(ws, 'site', 'apps/site', 'docker-arch-build');

it('builds the image and reports where it is', async () => {
  const { result, output } = await captureOutput(() => executor({ arch: 'arm64', sourceDateEpoch: EPOCH }, context()));
  expect(result).toEqual({ success: true });
  expect(output).toMatch(/site: linux\/arm64 image sha256:[0-9a-f]{64} \(1 layers, \d+ bytes\) in dist\/images\/site\/arm64/);
  expect(existsSync(join(ws, 'dist/images/site/arm64/index.json'))).toBe(true);
});

it('prints the problem and the fix, and fails', async () => {
  const { result, output } = await captureOutput(() => executor({ arch: 'arm64', dockerfile: 'apps/site/Broken.Dockerfile', sourceDateEpoch: EPOCH }, context()));
  expect(result).toEqual({ success: false });
  expect(output).toContain('COPY on line 2: source "missing.txt" was not found in the build context');
  expect(output).toContain('hint: Check the path');
  expect(existsSync(join(ws, 'dist/images/site/arm64'))).toBe(false);
});
