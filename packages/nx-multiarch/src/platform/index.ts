export * from './platforms';
export * from './parse-arch';
