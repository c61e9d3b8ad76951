/**
 * The one table of architectures (DESIGN section 3). Everything that needs a
 * GOARCH, a Rust triple, a gcc prefix or an OCI platform reads it from here.
 */
export type Arch = 'amd64' | 'arm64' | 'arm' | 'ppc64le' | 's390x' | 'riscv64';

export interface OciPlatform {
  os: 'linux';
  architecture: string;
  variant?: string;
}

/** ELF header facts that say which machine a binary is for. */
export interface ElfIdentity {
  /** e_machine value. */
  machine: number;
  /** 1 = 32-bit, 2 = 64-bit (EI_CLASS). */
  elfClass: 1 | 2;
  /** 1 = little endian, 2 = big endian (EI_DATA). */
  endianness: 1 | 2;
}

export interface PlatformSpec {
  arch: Arch;
  oci: OciPlatform;
  /** Environment for `go build`, beyond GOOS=linux. */
  goEnv: Record<string, string>;
  rustTriple: string;
  rustMuslTriple?: string;
  /** Prefix of the cross binutils and gcc (`<prefix>-gcc`, `<prefix>-strip`). */
  gccPrefix: string;
  debianArch: string;
  /** Name of the qemu-user binary, without the `-static` suffix. */
  qemu: string;
  /** QEMU_CPU value that pins the emulated CPU to the variant, where one matters. */
  qemuCpu?: string;
  elf: ElfIdentity;
}

export const PLATFORMS: Readonly<Record<Arch, PlatformSpec>> = {
  amd64: {
    arch: 'amd64',
    oci: { os: 'linux', architecture: 'amd64' },
    goEnv: { GOARCH: 'amd64' },
    rustTriple: 'x86_64-unknown-linux-gnu',
    rustMuslTriple: 'x86_64-unknown-linux-musl',
    gccPrefix: 'x86_64-linux-gnu',
    debianArch: 'amd64',
    qemu: 'qemu-x86_64',
    elf: { machine: 62, elfClass: 2, endianness: 1 },
  },
  arm64: {
    arch: 'arm64',
    oci: { os: 'linux', architecture: 'arm64' },
    goEnv: { GOARCH: 'arm64' },
    rustTriple: 'aarch64-unknown-linux-gnu',
    rustMuslTriple: 'aarch64-unknown-linux-musl',
    gccPrefix: 'aarch64-linux-gnu',
    debianArch: 'arm64',
    qemu: 'qemu-aarch64',
    elf: { machine: 183, elfClass: 2, endianness: 1 },
  },
  arm: {
    arch: 'arm',
    oci: { os: 'linux', architecture: 'arm', variant: 'v7' },
    // Go 1.19 defaults GOARM to 5 when cross-compiling: always say 7.
    goEnv: { GOARCH: 'arm', GOARM: '7' },
    rustTriple: 'armv7-unknown-linux-gnueabihf',
    rustMuslTriple: 'armv7-unknown-linux-musleabihf',
    gccPrefix: 'arm-linux-gnueabihf',
    debianArch: 'armhf',
    qemu: 'qemu-arm',
    // A v7 CPU, so that a v8-only instruction in the image fails under test as on a real v7 board.
    qemuCpu: 'cortex-a15',
    elf: { machine: 40, elfClass: 1, endianness: 1 },
  },
  ppc64le: {
    arch: 'ppc64le',
    oci: { os: 'linux', architecture: 'ppc64le' },
    goEnv: { GOARCH: 'ppc64le' },
    rustTriple: 'powerpc64le-unknown-linux-gnu',
    gccPrefix: 'powerpc64le-linux-gnu',
    debianArch: 'ppc64el',
    qemu: 'qemu-ppc64le',
    elf: { machine: 21, elfClass: 2, endianness: 1 },
  },
  s390x: {
    arch: 's390x',
    oci: { os: 'linux', architecture: 's390x' },
    goEnv: { GOARCH: 's390x' },
    rustTriple: 's390x-unknown-linux-gnu',
    gccPrefix: 's390x-linux-gnu',
    debianArch: 's390x',
    qemu: 'qemu-s390x',
    elf: { machine: 22, elfClass: 2, endianness: 2 },
  },
  riscv64: {
    arch: 'riscv64',
    oci: { os: 'linux', architecture: 'riscv64' },
    goEnv: { GOARCH: 'riscv64' },
    rustTriple: 'riscv64gc-unknown-linux-gnu',
    gccPrefix: 'riscv64-linux-gnu',
    debianArch: 'riscv64',
    qemu: 'qemu-riscv64',
    elf: { machine: 243, elfClass: 2, endianness: 1 },
  },
};

export const ARCHES = Object.keys(PLATFORMS) as Arch[];

/** The arches a release ships by default (Linkerd's set). */
export const DEFAULT_ARCHES: readonly Arch[] = ['amd64', 'arm64', 'arm'];

/** `linux/arm/v7`, `linux/arm64`: the spelling `docker --platform` takes. */
export function platformString(platform: OciPlatform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

/** The arch of the machine running this process, in the table's names. */
export function hostArch(): Arch {
  const byNode: Record<string, Arch> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
  };
  const arch = byNode[process.arch];
  if (!arch) throw new Error(`unsupported host architecture ${process.arch}`);
  return arch;
}
