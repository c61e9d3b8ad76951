export { createNodes, createNodesV2 } from './create-nodes';
export { createDependencies } from './create-dependencies';
export type { NxMultiarchPluginOptions } from './plugin-options';
