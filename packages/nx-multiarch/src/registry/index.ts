export * from './client';
export * from './reference';
export * from './errors';
export { ENV_USERNAME, ENV_PASSWORD, type ExplicitAuth } from './credentials';
export { ENV_CA_FILE, ENV_CERTS_DIR, ENV_INSECURE_REGISTRIES, isLoopbackHost } from './endpoint';
export type { RetryPolicy } from './retry';
export type { TransportStats } from './transport';
export { RegistryImageSource } from './image-source';
