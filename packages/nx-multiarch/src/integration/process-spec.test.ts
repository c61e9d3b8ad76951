import type { ImageConfig } from '../oci/types';
import { DEFAULT_PATH, envObject, parseStopSignal, processSpec } from './process-spec';

const config = (body: ImageConfig['config']): ImageConfig => ({ architecture: 'arm64', os: 'linux', config: body, rootfs: { type: 'layers', diff_ids: [] } });

describe('processSpec (Docker rules for entrypoint, cmd, env, workdir)', () => {
  const image = config({ Entrypoint: ['/controller'], Cmd: ['--addr', ':8085'], Env: ['PATH=/bin', 'LOG=info'], WorkingDir: '/srv', StopSignal: 'SIGINT' });

  it('runs Entrypoint + Cmd with the image Env and WorkingDir', () => {
    expect(processSpec(image)).toEqual({
      argv: ['/controller', '--addr', ':8085'],
      env: ['PATH=/bin', 'LOG=info', 'HOME=/'],
      workdir: '/srv',
      stopSignal: 'SIGINT',
    });
  });

  it('replaces Cmd with args, keeping the Entrypoint', () => {
    expect(processSpec(image, { args: ['--version'] }).argv).toEqual(['/controller', '--version']);
  });

  it('drops Cmd when the entrypoint is overridden, as docker run --entrypoint does', () => {
    expect(processSpec(image, { entrypoint: ['/bin/sh'] }).argv).toEqual(['/bin/sh']);
    expect(processSpec(image, { entrypoint: ['/bin/sh'], args: ['-c', 'true'] }).argv).toEqual(['/bin/sh', '-c', 'true']);
  });

  it('lets env overrides win and adds new keys', () => {
    expect(envObject(processSpec(image, { env: { LOG: 'debug', EXTRA: 'a=b' } }).env)).toEqual({ PATH: '/bin', LOG: 'debug', HOME: '/', EXTRA: 'a=b' });
  });

  it("gives Docker's PATH and / as workdir when the image sets none", () => {
    const spec = processSpec(config({ Cmd: ['/app'] }));
    expect(spec.env).toContain(`PATH=${DEFAULT_PATH}`);
    expect(spec.workdir).toBe('/');
    expect(spec.stopSignal).toBe('SIGTERM');
  });

  it('refuses an image with nothing to run, and a relative workdir', () => {
    expect(() => processSpec(config({}))).toThrow('The image has no Entrypoint or Cmd, and no command was given.');
    expect(() => processSpec(image, { workdir: 'rel' })).toThrow('Working directory "rel" is not absolute.');
  });
});

describe('parseStopSignal', () => {
  it.each([
    ['SIGTERM', 'SIGTERM'],
    ['term', 'SIGTERM'],
    ['15', 'SIGTERM'],
    ['2', 'SIGINT'],
    ['SIGQUIT', 'SIGQUIT'],
  ])('%s -> %s', (input, want) => expect(parseStopSignal(input)).toBe(want));

  it('refuses garbage', () => expect(() => parseStopSignal('not a signal')).toThrow(/is not a signal/));
});
