import type { Platform } from './types';

/**
 * The one rule for "is this image for that platform", used wherever an index
 * is searched (base images, built layouts, docker-archive output, push).
 * It compares os, architecture and variant after containerd's normalisation,
 * so that images written by other tools match as a docker client would
 * match them: `arm` without a variant is `arm/v7`, `arm64/v8` is plain
 * `arm64`, `amd64/v1` is plain `amd64`, and the architecture aliases the
 * Go and uname spellings use (`aarch64`, `x86_64`, `armhf`) mean the same.
 */
export interface PlatformLike {
  os: string;
  architecture: string;
  variant?: string;
}

export interface NormalizedPlatform {
  os: string;
  architecture: string;
  /** '' when the platform has no variant after normalisation. */
  variant: string;
}

function stripV(variant: string): string {
  return variant.startsWith('v') ? variant.slice(1) : variant;
}

export function normalizePlatform(platform: PlatformLike): NormalizedPlatform {
  const os = platform.os.toLowerCase();
  let architecture = platform.architecture.toLowerCase();
  let variant = (platform.variant ?? '').toLowerCase();
  switch (architecture) {
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      architecture = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64';
      if (['8', 'v8', 'v8.0'].includes(variant)) variant = '';
      break;
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      variant = variant === '' ? 'v7' : `v${stripV(variant)}`;
      break;
    case 'i386':
    case '386':
      architecture = '386';
      break;
  }
  return { os, architecture, variant };
}

/** True when `candidate` (an index entry's or a config's platform) is `want`. A missing candidate matches nothing. */
export function platformMatches(candidate: PlatformLike | undefined, want: PlatformLike): boolean {
  if (!candidate || !candidate.os || !candidate.architecture) return false;
  const a = normalizePlatform(candidate);
  const b = normalizePlatform(want);
  return a.os === b.os && a.architecture === b.architecture && a.variant === b.variant;
}

/** `linux/arm/v7`, as written (not normalised), for messages. */
export function describePlatform(platform: PlatformLike | Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}
