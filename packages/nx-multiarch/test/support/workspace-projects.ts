/**
 * The image of the plugin's own cache server (packages/nx-multiarch-cache-server).
 * Tests of the Linkerd-shaped projects leave it out of their run-many and
 * affected runs: its root filesystem stages Node.js for every arch (tens of
 * MB from the npm registry per arch) and the compiled plugin, which those
 * tests neither need nor count. Its own test is its arch-integration target.
 */
export const CACHE_SERVER_IMAGE = 'nx-multiarch-cache-server';
