import { relative } from 'node:path';
import type { JestAggregatedResult, JestTestFileResult } from './jest-results';

/**
 * JUnit XML from Jest's JSON results, in the shape CI systems read
 * (`testsuites` > `testsuite` per test file > `testcase` with `failure` or
 * `skipped`). Written here rather than taken from jest-junit: it is about
 * a hundred lines, it lets the arch and runner go into each suite's
 * properties, and it keeps Jest reporters out of the plugin's dependencies.
 * No timestamps or host names: only durations vary between runs.
 */
export interface JunitCase {
  classname: string;
  name: string;
  seconds: number;
  failure?: string;
  skipped?: boolean;
  /** A file-level error (the suite did not run to completion). */
  error?: string;
}

export interface JunitSuite {
  name: string;
  seconds: number;
  cases: JunitCase[];
  properties: Record<string, string>;
}

export interface JunitReport {
  name: string;
  suites: JunitSuite[];
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
// Characters XML 1.0 cannot hold at all, even escaped.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function escapeXml(text: string): string {
  return text
    .replace(ANSI, '')
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const seconds = (ms: number | null | undefined) => Math.max(0, (ms ?? 0) / 1000);
const fixed = (s: number) => s.toFixed(3);

function firstLine(text: string): string {
  return text.replace(ANSI, '').trim().split('\n')[0] ?? '';
}

/** `MultiarchError: …` -> MultiarchError; Jest's assertion failures start with `Error: expect(…)`. */
function errorType(text: string): string {
  return /^(\w*Error)\b/.exec(firstLine(text))?.[1] ?? 'Error';
}

function suiteOf(file: JestTestFileResult, rootDir: string, properties: Record<string, string>): JunitSuite {
  const name = relative(rootDir, file.name) || file.name;
  const cases: JunitCase[] = file.assertionResults.map((a) => {
    const classname = [name, ...a.ancestorTitles].join(' › ');
    const base = { classname, name: a.title, seconds: seconds(a.duration) };
    if (a.status === 'failed') return { ...base, failure: a.failureMessages.join('\n\n') || 'failed' };
    if (a.status === 'passed' || a.status === 'focused') return base;
    return { ...base, skipped: true };
  });
  // A file that failed outside any test (did not compile, beforeAll/afterAll threw) still shows up as an error.
  if (file.status === 'failed' && file.message && !file.assertionResults.some((a) => a.status === 'failed')) {
    cases.push({ classname: name, name: 'test file', seconds: 0, error: file.message });
  }
  return { name, seconds: seconds(file.endTime - file.startTime), cases, properties };
}

export function junitReport(results: JestAggregatedResult, rootDir: string, name: string, properties: Record<string, string>): JunitReport {
  return { name, suites: results.testResults.map((file) => suiteOf(file, rootDir, properties)) };
}

export interface JunitCounts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  seconds: number;
}

export function countCases(cases: readonly JunitCase[]): JunitCounts {
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.failure !== undefined).length,
    errors: cases.filter((c) => c.error !== undefined).length,
    skipped: cases.filter((c) => c.skipped).length,
    seconds: cases.reduce((sum, c) => sum + c.seconds, 0),
  };
}

export function reportCounts(report: JunitReport): JunitCounts {
  const counts = countCases(report.suites.flatMap((s) => s.cases));
  return { ...counts, seconds: report.suites.reduce((sum, s) => sum + s.seconds, 0) };
}

function caseXml(c: JunitCase): string {
  const open = `    <testcase classname="${escapeXml(c.classname)}" name="${escapeXml(c.name)}" time="${fixed(c.seconds)}"`;
  if (c.failure !== undefined) {
    return `${open}>\n      <failure message="${escapeXml(firstLine(c.failure))}" type="${escapeXml(errorType(c.failure))}">${escapeXml(c.failure)}</failure>\n    </testcase>`;
  }
  if (c.error !== undefined) {
    return `${open}>\n      <error message="${escapeXml(firstLine(c.error))}" type="SuiteError">${escapeXml(c.error)}</error>\n    </testcase>`;
  }
  if (c.skipped) return `${open}>\n      <skipped/>\n    </testcase>`;
  return `${open}/>`;
}

export function junitXml(report: JunitReport): string {
  const total = reportCounts(report);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(report.name)}" tests="${total.tests}" failures="${total.failures}" errors="${total.errors}" skipped="${total.skipped}" time="${fixed(total.seconds)}">`,
  ];
  for (const suite of report.suites) {
    const c = countCases(suite.cases);
    lines.push(
      `  <testsuite name="${escapeXml(suite.name)}" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${fixed(suite.seconds)}">`,
    );
    const props = Object.entries(suite.properties).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (props.length > 0) {
      lines.push('    <properties>');
      for (const [key, value] of props) lines.push(`      <property name="${escapeXml(key)}" value="${escapeXml(value)}"/>`);
      lines.push('    </properties>');
    }
    for (const c2 of suite.cases) lines.push(caseXml(c2));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
