/** One option of a command line, as the nx-multiarch subcommands read them. */
export interface CliOption {
  /** The option without any inline value: `--arch` for both `--arch arm64` and `--arch=arm64`. */
  name: string;
  /** The argument as written, for "unknown option" messages. */
  arg: string;
  /** The option's value: after `=`, else the next argument (which is then consumed). Throws when there is none. */
  value(): string;
}

/**
 * Walks `argv` option by option, so each subcommand's parser only says what
 * its options mean. `missingValue` builds the error for an option given no
 * value (its hint names the subcommand's --help); `isValue` says which next
 * arguments count as one (by default any non-empty one).
 */
export function* cliOptions(
  argv: readonly string[],
  missingValue: (name: string) => Error,
  isValue: (value: string) => boolean = (value) => value !== '',
): Generator<CliOption> {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const [name, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || !isValue(v)) throw missingValue(name);
      return v;
    };
    yield { name, arg, value };
  }
}
