#!/usr/bin/env node
'use strict';
// The nx-multiarch command. Subcommands live in the compiled plugin (dist/);
// this file only picks one, so it stays plain JavaScript with no build step.

const { join } = require('node:path');

const USAGE = `Usage: nx-multiarch <command> [options]

Commands:
  cache-server   run a self-hosted Nx remote cache backed by a folder or an
                 OCI registry (nx-multiarch cache-server --help for details)
  report         write dist/report/index.html and report.md: the image matrix,
                 pushes, integration results and timings (report --help)
  resolve-bases  print the digest each base image (FROM) of a project's
                 Dockerfile names now: the runtime cache input of
                 docker-arch-build (resolve-bases --help)
  setup          install (or --print) what the tasks for one arch need on
                 this machine: cross gcc, Rust target std, qemu-user (setup --help)
  verify         check an image's cosign signatures, SBOM and provenance
                 attestations with a public key (verify --help)

Options:
  -h, --help     show this text
`;

function loadCompiled(modulePath) {
  try {
    return require(join(__dirname, '..', 'dist', modulePath));
  } catch (error) {
    if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes(modulePath)) {
      process.stderr.write(
        `nx-multiarch: the compiled plugin is missing (dist/${modulePath}.js).\n  hint: build it with \`npm run build:plugin\` in the workspace, or reinstall the package.\n`,
      );
      process.exit(1);
    }
    throw error;
  }
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (command === 'cache-server') {
    const { runCacheServerCommand } = loadCompiled('cache-server/cli');
    return runCacheServerCommand(rest);
  }
  if (command === 'report') {
    const { runReportCommand } = loadCompiled('report/cli');
    return runReportCommand(rest);
  }
  if (command === 'resolve-bases') {
    const { runResolveBasesCommand } = loadCompiled('image/resolve-bases');
    return runResolveBasesCommand(rest);
  }
  if (command === 'setup') {
    const { runSetupCommand } = loadCompiled('setup/cli');
    return runSetupCommand(rest);
  }
  if (command === 'verify') {
    const { runVerifyCommand } = loadCompiled('supply-chain/cli');
    return runVerifyCommand(rest);
  }
  process.stderr.write(`nx-multiarch: unknown command "${command}".\n  hint: run \`nx-multiarch --help\` for the list of commands.\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`nx-multiarch: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
