import type { PlatformSpec } from '../../platform/platforms';
import { basename } from 'node:path';
import { loadDockerfile, type ParsedDockerfile } from '../../dockerfile/parse';
import type { Descriptor } from '../../oci/types';
import type { InstalledDebianPackage } from '../../outputs/image-summary';

/**
 * What every docker-arch-build engine is given and must produce. Engines write
 * an OCI image layout into `layoutDir` (an empty folder the caller made and
 * later swaps into dist atomically) holding exactly one image manifest for
 * `platform`, listed in index.json with its platform.
 */
export interface BuildRequest {
  platform: PlatformSpec;
  /** Absolute path of the Dockerfile. */
  dockerfile: string;
  /** Absolute path of the build context folder (artifacts already staged into it). */
  contextDir: string;
  /** Values for ARG instructions, beyond the predefined TARGET* and BUILD* ones. */
  buildArgs: Record<string, string>;
  /** Labels added to the image config, on top of the Dockerfile's LABELs. */
  labels: Record<string, string>;
  /** Seconds since the epoch: the config's `created`, every file mtime. */
  sourceDateEpoch: number;
  /** Tags recorded as org.opencontainers.image.ref.name annotations. */
  tags: string[];
  layoutDir: string;
  /** Folder for a content-addressed cache of base image blobs. */
  blobCacheDir: string;
  /** Folder of the native engine's compressed layers, by diff_id (oci/layer-cache.ts); none: every layer is compressed. */
  layerCacheDir?: string;
  /** The workspace root: `FROM oci-layout://<relative path>` is looked up in the context, then here. */
  workspaceRoot?: string;
  /** Folder of the Debian package cache for RUN apt-get install (private apt state per arch, .debs); default `<workspace>/.nx-multiarch/debian`. */
  packageCacheDir?: string;
  /** Packages installed although they have maintainer scripts, which the user checked the image does not need. */
  packageScriptsNotNeeded?: string[];
  /** Registries (`host[:port]`) to pull bases from over plain http; loopback ones need not be listed. */
  insecureRegistries?: string[];
  /** How messages name the Dockerfile (workspace-relative path); defaults to its file name. */
  dockerfileLabel?: string;
  /**
   * The Dockerfile, parsed once by docker-arch-build (every stage), so no
   * engine reads or parses it again. Engines parse `dockerfile` themselves
   * only when a caller builds a request without it.
   */
  parsedDockerfile?: ParsedDockerfile;
  /** Registry host → mirrors tried in order before it (the registryMirrors option). */
  registryMirrors?: Record<string, string[]>;
  /** FROM image → substitute image or oci-layout:// path (the baseImages option). */
  baseImages?: Record<string, string>;
  /** What the Dockerfile downloads → the workspace target that builds it (the downloads option). */
  downloads?: Record<string, string>;
  /** The --arch value as given (it names dist/cross/<project>/<arch>); default the platform's arch. */
  arch?: string;
  /** Progress lines (package installs, a mirror that failed before another answered). */
  log?: (line: string) => void;
}

/** The base an image was built on, as image.json records it. */
export interface BuiltBase {
  /** The FROM image after ARG substitution. */
  image: string;
  /** What was actually read: a mirror's reference, a substitute, or the image itself. */
  source: string;
  /** The platform's manifest digest (absent for scratch). */
  digest?: string;
}

export interface BuildResult {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** Debian packages installed by RUN idioms (native engine), sorted by name. */
  packages?: InstalledDebianPackage[];
  /** The final stage's base (the native engine says which digest it used). */
  base?: BuiltBase;
}

export interface BuildEngine {
  readonly name: 'native' | 'docker';
  build(request: BuildRequest): Promise<BuildResult>;
}

/** The tag an image gets when the target names none; both engines and the summary use it. */
export const DEFAULT_TAG = 'latest';

/** The request's parsed Dockerfile, or the file read and parsed now (for requests built by hand). */
export async function requestDockerfile(request: BuildRequest): Promise<ParsedDockerfile> {
  return request.parsedDockerfile ?? loadDockerfile(request.dockerfile, request.dockerfileLabel ?? basename(request.dockerfile));
}
