import type { JestAggregatedResult } from './jest-results';
import { escapeXml, junitReport, junitXml, reportCounts } from './junit';

const results: JestAggregatedResult = {
  success: false,
  startTime: 0,
  numTotalTests: 4,
  numPassedTests: 1,
  numFailedTests: 1,
  numPendingTests: 1,
  numRuntimeErrorTestSuites: 1,
  numTotalTestSuites: 2,
  testResults: [
    {
      name: '/ws/packages/p/integration/proxy.arch.test.ts',
      status: 'failed',
      message: '',
      startTime: 1000,
      endTime: 3500,
      assertionResults: [
        { ancestorTitles: ['proxy'], title: 'forwards <bytes> & counts', fullName: 'proxy forwards', status: 'passed', duration: 1200, failureMessages: [] },
        {
          ancestorTitles: ['proxy'],
          title: 'serves /metrics',
          fullName: 'proxy serves /metrics',
          status: 'failed',
          duration: 800,
          failureMessages: ['\u001b[31mError: expected "a" got \u0000"b"\u001b[39m\n    at line 3'],
        },
        { ancestorTitles: [], title: 'later', fullName: 'later', status: 'todo', duration: null, failureMessages: [] },
      ],
    },
    {
      name: '/ws/packages/p/integration/broken.arch.test.ts',
      status: 'failed',
      message: 'SyntaxError: Unexpected token',
      startTime: 0,
      endTime: 0,
      assertionResults: [],
    },
  ],
};

describe('JUnit XML from Jest results', () => {
  const report = junitReport(results, '/ws/packages/p', 'p linux/arm64 (qemu)', { arch: 'arm64', runner: 'qemu' });
  const xml = junitXml(report);

  it('counts tests, failures, errors and skips', () => {
    expect(reportCounts(report)).toEqual({ tests: 4, failures: 1, errors: 1, skipped: 1, seconds: 2.5 });
    expect(xml).toContain('<testsuites name="p linux/arm64 (qemu)" tests="4" failures="1" errors="1" skipped="1" time="2.500">');
  });

  it('writes one suite per file, named relative to the project, with the arch and runner as properties', () => {
    expect(xml).toContain('<testsuite name="integration/proxy.arch.test.ts" tests="3" failures="1" errors="0" skipped="1" time="2.500">');
    expect(xml).toContain('<property name="arch" value="arm64"/>');
    expect(xml).toContain('<property name="runner" value="qemu"/>');
    expect(xml).toContain('<testcase classname="integration/proxy.arch.test.ts › proxy" name="forwards &lt;bytes&gt; &amp; counts" time="1.200"/>');
  });

  it('keeps the failure text without colour codes or characters XML cannot hold', () => {
    expect(xml).toContain('<failure message="Error: expected &quot;a&quot; got &quot;b&quot;" type="Error">Error: expected &quot;a&quot; got &quot;b&quot;\n    at line 3</failure>');
    expect(xml).not.toContain('\u001b');
    expect(xml).not.toContain('\u0000');
  });

  it('names the error type of a failure', () => {
    const failing: JestAggregatedResult = {
      ...results,
      testResults: [{ ...results.testResults[0], assertionResults: [{ ...results.testResults[0].assertionResults[1], failureMessages: ['MultiarchError: proxy exited with code 255 before …'] }] }],
    };
    expect(junitXml(junitReport(failing, '/ws/packages/p', 'p', {}))).toContain('type="MultiarchError">MultiarchError: proxy exited');
  });

  it('reports a file that failed outside its tests as an error', () => {
    expect(xml).toContain('<testsuite name="integration/broken.arch.test.ts" tests="1" failures="0" errors="1" skipped="0" time="0.000">');
    expect(xml).toContain('<error message="SyntaxError: Unexpected token" type="SuiteError">SyntaxError: Unexpected token</error>');
  });

  it('marks todo and skipped tests as skipped', () => {
    expect(xml).toMatch(/name="later" time="0.000">\n\s+<skipped\/>/);
  });

  it('is well-formed enough for a strict reader: every element closed', () => {
    const opened = (xml.match(/<(testsuites|testsuite|testcase|failure|error|properties)[ >]/g) ?? []).length;
    const closed = (xml.match(/<\/(testsuites|testsuite|testcase|failure|error|properties)>|\/>/g) ?? []).length;
    expect(closed).toBeGreaterThanOrEqual(opened);
    expect(escapeXml('a<b>&"c"')).toBe('a&lt;b&gt;&amp;&quot;c&quot;');
  });
});
