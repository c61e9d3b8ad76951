/**
 * The narrow entry point of tools/bench/big-image-step.ts and engine-build.ts: only what one
 * docker-arch-build or manifest-push process loads (the engine, the layout,
 * the push), not the generators and @nx/devkit that bench-api.ts brings, so
 * a step's time is the executor's work and its start, not the load of every
 * module of the plugin (about 200 ms more, measured with `node -e`).
 * Not part of the public API.
 */
export { PLATFORMS, parseArchList } from './platform';
export { NativeEngine } from './image/native/engine';
export { DockerEngine } from './image/docker/engine';
export { OciLayoutReader } from './oci/layout';
export { toPlatform } from './oci/types';
export type { Digest, ImageIndex, ImageManifest } from './oci/types';
export { RegistryClient } from './registry/client';
export { planPush } from './publish/plan';
export { executePush } from './publish/execute';
export { DEFAULT_PUSH_CONCURRENCY } from './publish/options';
export { unpackRootfs } from './integration/rootfs';
