import { PLATFORMS } from '../platform/platforms';
import { readRun } from './compile-step';

const vars = (values: Record<string, string>) => (name: string) => values[name];
const read = (command: string, values: Record<string, string> = { TARGETARCH: 'arm64', TARGETOS: 'linux' }, arch: keyof typeof PLATFORMS = 'arm64') =>
  readRun({ command, lookup: vars(values), workdir: '/src', target: PLATFORMS[arch] });

describe('readRun (a RUN line of a $BUILDPLATFORM stage)', () => {
  it('reads go build with GOARCH from TARGETARCH, flags with values, and -o', () => {
    expect(read('CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags "-s -w" -tags netgo -o=/out/ctl ./cmd/ctl')).toEqual({
      ok: true,
      cwd: '/src',
      effects: [{ kind: 'go-build', packages: ['/src/cmd/ctl'], output: '/out/ctl', outputIsDir: false }],
    });
  });

  it('reads exported variables, env, cd and the dependency steps', () => {
    const result = read('set -eux; export GOARCH=$TARGETARCH; go mod download && cd cmd && env GOOS=linux go build -o ../bin/ctl ./ctl');
    expect(result).toEqual({
      ok: true,
      cwd: '/src/cmd',
      effects: [{ kind: 'dependencies', tool: 'go' }, { kind: 'go-build', packages: ['/src/cmd/ctl'], output: '/src/bin/ctl', outputIsDir: false }],
    });
  });

  it('refuses a GOARCH for another arch, a pipe, an output named by a command, an import path', () => {
    expect(read('GOARCH=amd64 go build -o /out/x ./x')).toMatchObject({ ok: false, fatal: true, reason: expect.stringContaining('GOARCH=amd64, but the target arch is arm64') });
    expect(read('GOARCH=$TARGETARCH go build -o /out/x ./x | tee log')).toMatchObject({ ok: false, reason: expect.stringContaining('"|"') });
    expect(read('GOARCH=$TARGETARCH go build -o "$(cat name)" ./x')).toMatchObject({ ok: false, fatal: true });
    expect(read('GOARCH=$TARGETARCH go build -o /out/x example.com/x/cmd')).toMatchObject({ ok: false, reason: expect.stringContaining('by import path') });
  });

  it('reads a go build of a main.go file as the build of its folder', () => {
    expect(read('GOARCH=$TARGETARCH go build -o /main ./cmds/main.go')).toMatchObject({ ok: true, effects: [{ kind: 'go-build', packages: ['/src/cmds'], output: '/main' }] });
    expect(read('GOARCH=$TARGETARCH go build ./cmd/tobot/main.go')).toMatchObject({ ok: true, effects: [{ kind: 'go-build', packages: ['/src/cmd/tobot'], output: '/src/main' }] });
  });

  it('takes GOARM from TARGETVARIANT for arm, and refuses another one', () => {
    const arm = { TARGETARCH: 'arm', TARGETVARIANT: 'v7' };
    expect(read('GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} go build -o /o/x ./x', arm, 'arm')).toMatchObject({ ok: true });
    expect(read('GOARCH=$TARGETARCH GOARM=6 go build -o /o/x ./x', arm, 'arm')).toMatchObject({ ok: false, reason: expect.stringContaining('GOARM=6') });
  });

  it('runs only the matching case arm, so an `exit 1` for other arches is fine', () => {
    const text = 'case "$TARGETARCH" in amd64) t=x86_64-unknown-linux-gnu ;; arm64|aarch64) t=aarch64-unknown-linux-gnu ;; *) exit 1 ;; esac; cargo build --locked --release --target $t -p proxy';
    expect(read(text)).toEqual({
      ok: true,
      cwd: '/src',
      effects: [{ kind: 'cargo-build', cwd: '/src', crate: 'proxy', bins: [], triple: 'aarch64-unknown-linux-gnu', outputDir: '/src/target/aarch64-unknown-linux-gnu/release' }],
    });
    expect(read(text, { TARGETARCH: 's390x' }, 's390x')).toMatchObject({ ok: false, reason: expect.stringContaining('"exit 1"') });
  });

  it('reads the cgo idiom: cross gcc installed, GOARCH exported in a case arm, redirections dropped', () => {
    const text =
      'apt-get update && apt-get install -y gcc-aarch64-linux-gnu && rm -rf /var/lib/apt/lists/* && ' +
      'case "$TARGETARCH" in amd64) export GOARCH=amd64 CC=gcc ;; arm64) export GOARCH=arm64 CC=aarch64-linux-gnu-gcc ;; ' +
      '*) echo "unsupported TARGETARCH=$TARGETARCH" >&2; exit 1 ;; esac && echo building 2>/dev/null && go build -o /out/app ./cmd/app';
    expect(read(text)).toMatchObject({ ok: true, effects: [{ kind: 'go-build', packages: ['/src/cmd/app'], output: '/out/app' }] });
  });

  it('refuses cargo build without --release, and an unknown command with its text', () => {
    expect(read('cargo build --target aarch64-unknown-linux-gnu')).toMatchObject({ ok: false, fatal: true, reason: expect.stringContaining('debug profile') });
    expect(read('make build')).toMatchObject({ ok: false, fatal: false, reason: expect.stringContaining('"make build" is not a step') });
  });
});
