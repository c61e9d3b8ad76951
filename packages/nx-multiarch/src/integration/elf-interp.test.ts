import { readFile } from 'node:fs/promises';
import { elfInterpreter } from './elf-interp';

describe('elfInterpreter', () => {
  it('names the loader of a dynamically linked host program', async () => {
    expect(elfInterpreter(await readFile('/bin/ls'))).toMatch(/^\/lib.*\/ld-linux.*\.so\.\d$/);
  });

  it('finds none in a static binary', async () => {
    expect(elfInterpreter(await readFile('/usr/bin/qemu-aarch64-static'))).toBeUndefined();
  });

  it('finds none in a file that is not ELF', () => {
    expect(elfInterpreter(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(80, ' ')))).toBeUndefined();
  });
});
