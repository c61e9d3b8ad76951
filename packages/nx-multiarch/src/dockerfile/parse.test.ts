import { nativeBlockers, nativeBlockersError, parseDockerfile } from './parse';

describe('parseDockerfile', () => {
  it('takes the final stage, the global ARGs and the stage names', () => {
    const parsed = parseDockerfile(
      [
        'ARG BASE=scratch',
        'FROM golang:1.19 AS build',
        'RUN go build ./...',
        'FROM ${BASE} AS final',
        'ARG TARGETARCH',
        'COPY --chmod=755 --chown=65532:65532 bin/${TARGETARCH}/proxy /usr/lib/linkerd/',
        'ENTRYPOINT ["/usr/lib/linkerd/proxy"]',
      ].join('\n'),
    );
    expect(parsed.globalArgs).toEqual([{ name: 'BASE', rawDefault: 'scratch' }]);
    expect(parsed.earlierStageNames).toEqual(['build']);
    expect(parsed.stageCount).toBe(2);
    expect(parsed.from).toEqual({ line: 4, rawImage: '${BASE}', stageName: 'final' });
    expect(parsed.instructions).toEqual([
      { kind: 'ARG', line: 5, args: [{ name: 'TARGETARCH' }] },
      {
        kind: 'COPY',
        line: 6,
        flags: { chmod: '755', chown: '65532:65532' },
        rawSources: ['bin/${TARGETARCH}/proxy'],
        rawDest: '/usr/lib/linkerd/',
      },
      { kind: 'ENTRYPOINT', line: 7, form: 'exec', argv: ['/usr/lib/linkerd/proxy'] },
    ]);
    // RUN is in an earlier stage, which the native engine skips (as BuildKit skips unused stages).
    expect(nativeBlockers(parsed)).toEqual([]);
  });

  it('reads JSON form with spaces, shell form across continuation lines, and ENV pairs raw', () => {
    const parsed = parseDockerfile(
      [
        'FROM scratch',
        'COPY ["my file", "/dest dir/"]',
        'ENV A=1 B="two words" \\',
        '    C=$A',
        'CMD echo "hi there" \\',
        '  again',
        'EXPOSE 4143 4191/tcp',
        'USER 65532',
      ].join('\n'),
    );
    expect(parsed.instructions).toEqual([
      { kind: 'COPY', line: 2, flags: {}, rawSources: ['my file'], rawDest: '/dest dir/' },
      {
        kind: 'ENV',
        line: 3,
        pairs: [
          { rawName: 'A', rawValue: '1' },
          { rawName: 'B', rawValue: '"two words"' },
          { rawName: 'C', rawValue: '$A' },
        ],
      },
      { kind: 'CMD', line: 5, form: 'shell', command: 'echo "hi there"   again' },
      { kind: 'EXPOSE', line: 7, rawWords: ['4143', '4191/tcp'] },
      { kind: 'USER', line: 8, raw: '65532' },
    ]);
  });

  it('lists what the native engine cannot do, with line numbers', () => {
    const parsed = parseDockerfile(
      [
        'FROM scratch AS base',
        'FROM base',
        'RUN apk add curl',
        'COPY --from=build /out /out',
        'ADD https://example.invalid/x /x',
        'ONBUILD COPY . /app',
        'COPY <<EOF /etc/motd',
        'hello',
        'EOF',
      ].join('\n'),
    );
    const blockers = nativeBlockers(parsed);
    expect(blockers.map((b) => [b.line, b.instruction])).toEqual([
      [2, 'FROM'],
      [3, 'RUN'],
      [4, 'COPY'],
      [5, 'ADD'],
      [6, 'ONBUILD'],
      [7, 'COPY'],
    ]);
    const error = nativeBlockersError(blockers, 'packages/x/Dockerfile');
    expect(error.message).toContain('line 3: RUN: RUN in a stage of the target platform runs target code');
    expect(error.message).toContain('line 4: COPY: COPY --from');
    expect(error.hint).toMatch(/FROM --platform=\$BUILDPLATFORM.*allowEmulation: true.*engine "docker"/);
  });

  it('refuses a Dockerfile without FROM and instructions before it', () => {
    expect(() => parseDockerfile('COPY a /a\n', 'Dockerfile')).toThrow(/has no FROM/);
    expect(() => parseDockerfile('ENV A=1\nFROM scratch\n', 'Dockerfile')).toThrow(/line 1: ENV comes before the first FROM/);
  });

  it('keeps the platform flag of the final FROM', () => {
    expect(parseDockerfile('FROM --platform=$TARGETPLATFORM oci-layout://base\n').from).toEqual({
      line: 1,
      rawImage: 'oci-layout://base',
      rawPlatform: '$TARGETPLATFORM',
    });
  });
});
