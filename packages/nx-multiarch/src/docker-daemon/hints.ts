/**
 * The one set of fixes for docker problems, shared by the docker engine and
 * the docker runner. Each caller adds its own way out (`--engine=native`,
 * `--runner=qemu`), because that is the only part that differs.
 */
export interface DockerUse {
  /** What to do instead of fixing docker, e.g. "or build with --engine=native, which needs no daemon". */
  alternative: string;
  /** The daemon is another machine's (DOCKER_HOST over ssh or tcp): its fixes happen there. */
  remote?: boolean;
}

export function installCliHint(use: DockerUse): string {
  return `Install it (Debian: apt-get install docker.io, or run bash tools/setup.sh); ${use.alternative}.`;
}

export function startDaemonHint(use: DockerUse): string {
  if (use.remote) return 'Check that the remote machine runs dockerd and that DOCKER_HOST (or --dockerHost) reaches it, e.g. ssh://user@arm64-host.';
  return `Start one with \`bash tools/services.sh start dockerd\` and export the DOCKER_HOST it prints, or set DOCKER_HOST to a running daemon; ${use.alternative}.`;
}

export function registerBinfmtHint(qemu: string, binfmtDir: string, use: DockerUse): string {
  return (
    `Register it with \`bash tools/services.sh start binfmt\` (qemu-user-static with the F flag), or as root: ` +
    `\`mount -t binfmt_misc binfmt_misc ${binfmtDir}\` if it is not mounted, then \`cat /usr/lib/binfmt.d/${qemu}.conf > ${binfmtDir}/register\`; ${use.alternative}.`
  );
}

export function enableBinfmtHint(entry: string, use: DockerUse): string {
  return `Enable it with \`echo 1 > ${entry}\` (as root); ${use.alternative}.`;
}

export function reregisterBinfmtHint(qemu: string, entry: string, binfmtDir: string, use: DockerUse): string {
  return (
    `Re-register it with the F flag (\`bash tools/services.sh start binfmt\`, or as root \`echo -1 > ${entry}\`, ` +
    `then \`cat /usr/lib/binfmt.d/${qemu}.conf > ${binfmtDir}/register\`); ${use.alternative}.`
  );
}
