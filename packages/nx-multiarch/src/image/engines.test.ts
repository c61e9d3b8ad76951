import { parseDockerfile, nativeBlockers } from '../dockerfile/parse';
import type { BuildEngine } from './common/engine';
import { chooseEngine, parseEngineChoice } from './engines';
import { MultiarchError } from '../errors';

const fake = (name: 'native' | 'docker'): BuildEngine => ({
  name,
  build: () => Promise.reject(new Error('not built in this test')),
});
const engines = { native: fake('native'), docker: fake('docker') };

describe('engine choice', () => {
  it('auto takes native when the final stage needs no container', () => {
    const blockers = nativeBlockers(parseDockerfile('FROM golang AS build\nRUN go build\nFROM scratch\nCOPY bin/x /x\n'));
    expect(chooseEngine('auto', blockers, engines).engine.name).toBe('native');
  });

  it('auto never emulates unasked: a RUN of the target stage is refused with its line and the ways out', () => {
    expect.assertions(4);
    const blockers = nativeBlockers(parseDockerfile('FROM 127.0.0.1:5000/alpine\nCOPY x /x\nRUN apk add curl\n', 'img/Dockerfile'));
    expect(() => chooseEngine('auto', blockers, engines, { arch: 'arm64', dockerfileName: 'img/Dockerfile' })).toThrow(
      /img\/Dockerfile cannot be built for arm64 without emulation, and engine "auto" never emulates unasked:\n  line 3: RUN: /,
    );
    try {
      chooseEngine('auto', blockers, engines, { arch: 'arm64' });
    } catch (error) {
      expect((error as MultiarchError).hint).toContain('allowEmulation: true');
      expect((error as MultiarchError).hint).toContain('engine "docker"');
      expect((error as MultiarchError).hint).toContain('FROM --platform=$BUILDPLATFORM');
    }
  });

  it('auto takes docker under emulation only with allowEmulation, and says so', () => {
    const blockers = nativeBlockers(parseDockerfile('FROM 127.0.0.1:5000/alpine\nCOPY x /x\nRUN apk add curl\n'));
    const chosen = chooseEngine('auto', blockers, engines, { allowEmulation: true, arch: 'arm64' });
    expect(chosen.engine.name).toBe('docker');
    expect(chosen.emulation).toBe(true);
    expect(chosen.reason).toBe('auto: line 3 (RUN) runs arm64 code: the docker engine under EMULATION, because allowEmulation is set');
  });

  it('auto takes docker without asking when nothing runs as a foreign arch', () => {
    const blockers = nativeBlockers(parseDockerfile('FROM 127.0.0.1:5000/alpine\nCOPY x /x\nRUN apk add curl\n'));
    const chosen = chooseEngine('auto', blockers, engines, { targetIsHost: true, arch: 'amd64' });
    expect(chosen).toMatchObject({ emulation: false, reason: 'auto: line 3 (RUN) needs the docker engine; no emulation (it runs on the build machine\'s arch)' });
    expect(chosen.engine.name).toBe('docker');
  });

  it('an explicit docker choice that emulates says so', () => {
    const blockers = nativeBlockers(parseDockerfile('FROM 127.0.0.1:5000/alpine\nRUN apk add curl\n'));
    expect(chooseEngine('docker', blockers, engines, { arch: 'arm' })).toMatchObject({ emulation: true, reason: 'engine docker was asked for; line 2 (RUN) runs arm code under emulation' });
  });

  it('keeps an explicit choice', () => {
    expect(chooseEngine('native', [], engines).engine.name).toBe('native');
    expect(chooseEngine('docker', [], engines).engine.name).toBe('docker');
  });

  it('refuses unknown engine names and defaults to auto', () => {
    expect(parseEngineChoice(undefined)).toBe('auto');
    expect(parseEngineChoice('Native')).toBe('native');
    expect(() => parseEngineChoice('podman')).toThrow('Unknown engine "podman".');
  });
});
