/**
 * The one entry point of the plugin for the benchmarks in tools/bench/. They
 * import from here only, and `nx run nx-multiarch:typecheck` type-checks them
 * against it, so a move inside src/ breaks this file's compilation (where it
 * is fixed once), never a bench script at run time. Not part of the public API.
 */
export { MultiarchError, formatError } from './errors';
export { PLATFORMS, platformString, parseArchList } from './platform';
export type { Arch } from './platform';
export { NativeEngine } from './image/native/engine';
export { DockerEngine } from './image/docker/engine';
export { publishProject } from './publish/publish-project';
export type { PublishRequest, PublishResult } from './publish/publish-project';
export { OciLayoutWriter } from './oci/layout';
export { MediaTypes, toPlatform } from './oci/types';
export type { Descriptor, Digest, ImageIndex, ImageManifest } from './oci/types';
export { createTar } from './oci/tar';
export { gzipDeterministic } from './oci/gzip';
export { createBlockGzip, LAYER_BLOCKS } from './oci/gzip-blocks';
export { useTestContext, startImage, freePort, stopAll } from './integration';
export { run, runChecked } from './util/exec';
export { default as goCrossExecutor } from './executors/go-cross/executor';
export { default as cargoCrossExecutor } from './executors/cargo-cross/executor';
export { default as dockerArchBuildExecutor } from './executors/docker-arch-build/executor';
export { createNodesV2, PROJECT_FILES_GLOB } from './graph/create-nodes';
export { default as importRepoGenerator } from './generators/import-repo/generator';
export { RegistryClient } from './registry/client';
export { OciLayoutReader } from './oci/layout';
export { unpackRootfs } from './integration/rootfs';
