import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { licenseFile } from './cargo-cross';

describe('licenseFile (the LICENSE a release package carries)', () => {
  let ws: string;
  const pkg = (dir: string) => ({ name: 'linkerd2-proxy', version: '0.1.0', manifestDir: join(ws, dir), bins: ['linkerd2-proxy'], cargoWorkspaceRoot: join(ws, 'vendor/proxy') });
  beforeEach(() => {
    ws = mkdtempSync(join(tmpdir(), 'nxm-license-'));
    mkdirSync(join(ws, 'vendor/proxy/linkerd2-proxy'), { recursive: true });
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('looks beside Cargo.toml, then in each folder above it up to the repository root', () => {
    writeFileSync(join(ws, 'vendor/proxy/LICENSE'), 'repo');
    expect(licenseFile(pkg('vendor/proxy/linkerd2-proxy'), ws)).toBe(join(ws, 'vendor/proxy/LICENSE'));
    writeFileSync(join(ws, 'vendor/proxy/linkerd2-proxy/LICENSE'), 'crate');
    expect(licenseFile(pkg('vendor/proxy/linkerd2-proxy'), ws)).toBe(join(ws, 'vendor/proxy/linkerd2-proxy/LICENSE'));
  });

  it('names every place it looked when there is none, and stops at the workspace root', () => {
    expect(() => licenseFile(pkg('vendor/proxy/linkerd2-proxy'), ws)).toThrow(
      new RegExp(`looked at ${join(ws, 'vendor/proxy/linkerd2-proxy/LICENSE')}, ${join(ws, 'vendor/proxy/LICENSE')}, ${join(ws, 'vendor/LICENSE')}, ${join(ws, 'LICENSE')}\\)`),
    );
  });
});
