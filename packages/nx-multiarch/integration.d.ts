export * from './dist/integration';
