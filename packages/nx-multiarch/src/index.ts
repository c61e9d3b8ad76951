/**
 * nx-multiarch: the Nx plugin entry. Nx loads this module for the `plugins`
 * entry in nx.json (createNodes, createDependencies); executors and
 * generators are found through executors.json and generators.json.
 */
export { createNodes, createNodesV2, createDependencies } from './graph';
export type { NxMultiarchPluginOptions } from './graph';
export const name = 'nx-multiarch';
