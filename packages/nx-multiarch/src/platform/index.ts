export * from './platforms';
export * from './parse-arch';
export * from './elf';
