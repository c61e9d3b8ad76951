import { MultiarchError } from '../errors';
import type { PlatformSpec } from '../platform/platforms';

/**
 * The systems go-cross builds for. Images are linux only; a CLI is also
 * released for darwin and windows (Linkerd's `linkerd2-cli-<version>-<os>-<arch>`
 * assets). Pure: names and rules, no files.
 */
export type GoOs = 'linux' | 'darwin' | 'windows';

/** Arches each non-linux system is built for (what Go supports and CLIs ship). */
const FOREIGN_ARCHES: Record<Exclude<GoOs, 'linux'>, readonly string[]> = {
  darwin: ['amd64', 'arm64'],
  windows: ['amd64', 'arm64'],
};

export function parseGoOs(value: string | undefined, platform: PlatformSpec): GoOs {
  const os = value ?? 'linux';
  if (os !== 'linux' && os !== 'darwin' && os !== 'windows') {
    throw new MultiarchError(`Unknown go-cross os "${os}".`, 'Use linux (the default), darwin or windows.');
  }
  if (os !== 'linux' && !FOREIGN_ARCHES[os].includes(platform.arch)) {
    throw new MultiarchError(`go-cross builds ${os} for ${FOREIGN_ARCHES[os].join(' and ')}, not ${platform.arch}.`, `Use --arch=${FOREIGN_ARCHES[os].join(' or --arch=')} with os "${os}".`);
  }
  return os;
}

/** The file name of an executable: Windows needs `.exe`. */
export function executableName(name: string, os: GoOs): string {
  return os === 'windows' && !name.endsWith('.exe') ? `${name}.exe` : name;
}

/** The output folder under dist/cross/<project>/: the arch as given for linux (as before), `<os>-<arch>` otherwise. */
export function outputFolderName(os: GoOs, arch: string): string {
  return os === 'linux' ? arch : `${os}-${arch}`;
}

/** A release asset's file name, as Linkerd names its CLI downloads: `linkerd2-cli-<version>-<os>-<arch>[.exe]`. */
export function releaseAssetName(releaseName: string, version: string, os: GoOs, arch: string): string {
  return executableName(`${releaseName}-${version}-${os}-${arch}`, os);
}
