import { dockerRunArgs, engineHostAddress } from './docker';

describe('docker run arguments', () => {
  it('passes the whole argv through --entrypoint, the env, workdir, platform and host network', () => {
    expect(
      dockerRunArgs('c1', 'img:tag', 'linux/arm/v7', { argv: ['/proxy', '--flag'], env: ['A=1', 'PATH=/bin'], workdir: '/w', stopSignal: 'SIGTERM' }),
    ).toEqual(['run', '--rm', '--name', 'c1', '--platform', 'linux/arm/v7', '--network', 'host', '--workdir', '/w', '--entrypoint', '/proxy', '--env', 'A=1', '--env', 'PATH=/bin', 'img:tag', '--flag']);
  });

  it('reaches a remote engine’s host-network listeners at its host name', () => {
    expect(engineHostAddress(undefined)).toBe('127.0.0.1');
    expect(engineHostAddress('unix:///run/docker.sock')).toBe('127.0.0.1');
    expect(engineHostAddress('tcp://10.0.0.7:2376')).toBe('10.0.0.7');
    expect(engineHostAddress('ssh://ci@arm64-box')).toBe('arm64-box');
    expect(engineHostAddress('tcp://[fd00::7]:2376')).toBe('fd00::7');
    expect(() => engineHostAddress('arm64-box:2376')).toThrow('Docker host "arm64-box:2376" is not a DOCKER_HOST URL.');
  });
});
