// The test API for arch-integration tests: import { startImage } from 'nx-multiarch/integration'.
module.exports = require('./dist/integration');
