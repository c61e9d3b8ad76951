import type { ArchRequirements } from '../cross/arch-requirements';

/**
 * The shell script that installs what `archRequirements` lists. It checks
 * before it installs (dpkg-query, and rustup's own check), so a second run,
 * or a runner image that has the packages already, costs no apt-get update.
 * It needs apt-get (Debian, Ubuntu) and, for Rust, rustup on PATH, as
 * GitHub's and GitLab's Ubuntu runners have.
 */
export function setupScript(requirements: ArchRequirements, command: string): string {
  const lines = [
    '#!/usr/bin/env bash',
    `# Written by \`${command}\`.`,
    `# What the nx-multiarch tasks for ${requirements.arch} need on this ${requirements.hostArch} host:`,
    ...requirements.reasons.map((reason) => `#   ${reason}`),
    'set -euo pipefail',
  ];
  if (requirements.aptPackages.length > 0) {
    lines.push(
      'sudo=""',
      'if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi',
      'missing=""',
      `for pkg in ${requirements.aptPackages.join(' ')}; do`,
      `  dpkg-query -W -f='\${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $pkg"`,
      'done',
      'if [ -n "$missing" ]; then',
      '  echo "nx-multiarch setup: installing$missing"',
      '  $sudo apt-get update -q',
      '  # shellcheck disable=SC2086 # one word per package',
      '  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing',
      'else',
      `  echo "nx-multiarch setup: ${requirements.aptPackages.join(', ')} already installed"`,
      'fi',
    );
  }
  if (requirements.rust) {
    const { toolchain, targets } = requirements.rust;
    // Checked first: `rustup toolchain install` on an installed channel would update it (and
    // download a whole toolchain), which a developer running this by hand does not expect.
    lines.push(
      `if ! RUSTUP_AUTO_INSTALL=0 rustup run ${toolchain} rustc -V >/dev/null 2>&1; then`,
      `  rustup toolchain install ${toolchain} --profile minimal --no-self-update`,
      'fi',
      `for target in ${targets.join(' ')}; do`,
      `  if rustup target list --installed --toolchain ${toolchain} | grep -qx "$target"; then`,
      `    echo "nx-multiarch setup: rust std for $target already installed in ${toolchain}"`,
      '  else',
      `    rustup target add --toolchain ${toolchain} "$target"`,
      '  fi',
      'done',
    );
  }
  if (requirements.aptPackages.length === 0 && !requirements.rust) lines.push('echo "nx-multiarch setup: nothing to install"');
  return `${lines.join('\n')}\n`;
}
