import type { IntegrationResult } from './types';

/**
 * Totals of a JUnit file from its root element. The plugin's writer
 * (src/integration/junit.ts) puts tests, failures, errors, skipped and time on
 * `<testsuites>`; other writers put them only on each `<testsuite>`, so those
 * are summed when the root has none.
 */
export function summariseJunit(xml: string, project: string, arch: string): IntegrationResult {
  const root = /<testsuites\b([^>]*)>/.exec(xml);
  if (root && /\btests="/.test(root[1])) return { project, arch, ...countsOf(root[1]) };
  const total = { tests: 0, failures: 0, errors: 0, skipped: 0, seconds: 0 };
  for (const suite of xml.matchAll(/<testsuite\b([^>]*)>/g)) {
    const c = countsOf(suite[1]);
    total.tests += c.tests;
    total.failures += c.failures;
    total.errors += c.errors;
    total.skipped += c.skipped;
    total.seconds += c.seconds;
  }
  return { project, arch, ...total };
}

function countsOf(attributes: string): Omit<IntegrationResult, 'project' | 'arch'> {
  const number = (name: string) => {
    const match = new RegExp(`\\b${name}="([0-9.]+)"`).exec(attributes);
    return match ? Number(match[1]) : 0;
  };
  return { tests: number('tests'), failures: number('failures'), errors: number('errors'), skipped: number('skipped'), seconds: number('time') };
}
