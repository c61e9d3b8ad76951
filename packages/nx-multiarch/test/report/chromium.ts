import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { exec } from '../faults/scratch-clone';

/** Debian's chromium (apt-get install chromium), run headless with no network, sync or GPU. */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

function flags(profile: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    `--user-data-dir=${profile}`,
  ];
}

async function withProfile<T>(body: (profile: string) => Promise<T>): Promise<T> {
  const profile = await mkdtemp(join(tmpdir(), 'nxm-chromium-'));
  try {
    return await body(profile);
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** The DOM after the page loaded, as chromium serialises it. */
export function dumpDom(htmlFile: string): Promise<string> {
  if (!CHROMIUM) throw new Error('chromium is not installed: apt-get install -y chromium');
  return withProfile(async (profile) => {
    const result = await exec(CHROMIUM, [...flags(profile), '--dump-dom', pathToFileURL(htmlFile).href], tmpdir(), process.env, 60_000);
    if (!result.output.includes('<html')) throw new Error(`chromium --dump-dom failed (exit ${result.code}):\n${result.output.slice(0, 2000)}`);
    return result.output;
  });
}

/** A PNG of the page at the given window size. */
export function screenshot(htmlFile: string, pngFile: string, size = '1200,1600'): Promise<void> {
  if (!CHROMIUM) throw new Error('chromium is not installed: apt-get install -y chromium');
  return withProfile(async (profile) => {
    const result = await exec(CHROMIUM, [...flags(profile), `--window-size=${size}`, `--screenshot=${pngFile}`, pathToFileURL(htmlFile).href], tmpdir(), process.env, 60_000);
    if (!existsSync(pngFile)) throw new Error(`chromium --screenshot wrote nothing (exit ${result.code}):\n${result.output.slice(0, 2000)}`);
  });
}
