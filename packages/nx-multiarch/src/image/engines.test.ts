import { parseDockerfile, nativeBlockers } from '../dockerfile/parse';
import type { BuildEngine } from './common/engine';
import { chooseEngine, parseEngineChoice } from './engines';

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

  it('auto takes docker for RUN in the final stage, and says which line', () => {
    const blockers = nativeBlockers(parseDockerfile('FROM 127.0.0.1:5000/alpine\nCOPY x /x\nRUN apk add curl\n'));
    const chosen = chooseEngine('auto', blockers, engines);
    expect(chosen.engine.name).toBe('docker');
    expect(chosen.reason).toBe('auto: line 3 (RUN) needs the docker engine');
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
