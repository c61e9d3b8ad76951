import { spawn } from 'node:child_process';
import { formatError, MultiarchError } from '../errors';
import { parseArch } from '../platform/parse-arch';
import { hostArch, type Arch } from '../platform/platforms';
import { archRequirements } from '../cross/arch-requirements';
import { setupScript } from './script';
import { cliOptions } from '../util/cli-options';

export const SETUP_HELP = `Usage: nx-multiarch setup --arch <arch> [options]

Installs what the plugin's tasks need to build and test one arch on this
machine: the cross gcc, binutils and libc start files that cargo-cross links
with (from a machine of another arch), the Rust target std (rustup), and
qemu-user-static for the integration tests (on a machine of the arch, static
programs run natively and only dynamically linked ones go through qemu's -L
to load the image's libraries). Go needs nothing per arch. The packages are the ones the plugin's
preflight errors name; CI workflows written by \`nx g nx-multiarch:ci-workflow\`
run this command, so there is no second list to keep up to date.

Options:
  --arch <arch>            the arch to build and test (any usual spelling)
  --rust-toolchain <name>  a rustup toolchain (stable, 1.82.0) to add the
                           target std to; leave it out when there is no Rust
  --no-integration         build only: no qemu-user
  --host-arch <arch>       the machine that will run the tasks (default: this one)
  --print                  print the shell script instead of running it
  -h, --help               show this text
`;

export interface SetupCliOptions {
  arch?: Arch;
  hostArch?: Arch;
  rustToolchain?: string;
  integration: boolean;
  print: boolean;
  help: boolean;
}

function usageError(message: string): MultiarchError {
  return new MultiarchError(message, 'run `nx-multiarch setup --help` for the options.');
}

export function parseSetupArgs(argv: readonly string[]): SetupCliOptions {
  const options: SetupCliOptions = { integration: true, print: false, help: false };
  // A next argument that is itself an option is not taken as a value (`--arch --print`).
  const isValue = (v: string) => v !== '' && !v.startsWith('--');
  for (const { name, arg, value } of cliOptions(argv, (name) => usageError(`${name} needs a value.`), isValue)) {
    if (name === '-h' || name === '--help') options.help = true;
    else if (name === '--arch') options.arch = parseArch(value());
    else if (name === '--host-arch') options.hostArch = parseArch(value());
    else if (name === '--rust-toolchain') options.rustToolchain = value();
    else if (name === '--no-integration') options.integration = false;
    else if (name === '--print') options.print = true;
    else throw usageError(`Unknown option "${arg}" for nx-multiarch setup.`);
  }
  return options;
}

/** The script for the options, and the command line that prints it (recorded in its header). */
export function renderSetup(options: SetupCliOptions): string {
  if (!options.arch) throw usageError('nx-multiarch setup needs --arch.');
  const host = options.hostArch ?? hostArch();
  const requirements = archRequirements({ arch: options.arch, hostArch: host, rustToolchain: options.rustToolchain, integration: options.integration });
  const command = [
    'nx-multiarch setup',
    `--arch ${options.arch}`,
    ...(options.rustToolchain ? [`--rust-toolchain ${options.rustToolchain}`] : []),
    ...(options.integration ? [] : ['--no-integration']),
    `--host-arch ${host}`,
    '--print',
  ].join(' ');
  return setupScript(requirements, command);
}

function runBash(script: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-s'], { stdio: ['pipe', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
    child.stdin.end(script);
  });
}

export async function runSetupCommand(argv: readonly string[]): Promise<number> {
  try {
    const options = parseSetupArgs(argv);
    if (options.help) {
      process.stdout.write(SETUP_HELP);
      return 0;
    }
    const script = renderSetup(options);
    if (options.print) {
      process.stdout.write(script);
      return 0;
    }
    return await runBash(script);
  } catch (error) {
    process.stderr.write(`nx-multiarch setup: ${formatError(error)}\n`);
    return 1;
  }
}
