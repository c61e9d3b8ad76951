import type { TargetConfiguration } from '@nx/devkit';

/**
 * Options of the nx-multiarch plugin entry in nx.json:
 *
 *   "plugins": [{ "plugin": "nx-multiarch", "options": { "arches": ["amd64", "arm64", "arm"] } }]
 *
 * They drive target inference (createNodes); a project's project.json still
 * overrides any inferred target.
 */
export interface NxMultiarchPluginOptions {
  /** Arches every image is built for; per-arch targets are inferred for each. Default amd64, arm64, arm. */
  arches?: string[];
  /** Registry host[:port][/prefix] manifest-push pushes to; overridden by --registry or NX_MULTIARCH_REGISTRY. */
  registry?: string;
  /** Prefix put before every image repository name (e.g. "linkerd"). */
  repositoryPrefix?: string;
  /** docker-arch-build engine: native (daemonless), docker, or auto. Default auto. */
  engine?: 'native' | 'docker' | 'auto';
  /**
   * Mirrors per registry host, tried in order before the registry itself, as
   * BuildKit's `mirrors`: `{ "docker.io": ["127.0.0.1:5000"] }`. Passed to
   * every docker-arch-build target (its own option wins).
   */
  registryMirrors?: Record<string, string[]>;
  /** FROM image → substitute image or `oci-layout://` path, for every docker-arch-build target. */
  baseImages?: Record<string, string>;
  /**
   * What Dockerfiles download, mapped once to the workspace target that
   * builds it: `{ "linkerd2-proxy-*.tar.gz": "linkerd2-proxy:cargo-cross" }`.
   * An image whose Dockerfile names a matching URL depends on that target
   * (graph edge, dependsOn per arch) and gets the package instead of the download.
   */
  downloads?: Record<string, string>;
  /** How manifest-push names tags: the project version, the git short sha, or both. Default version. */
  tagScheme?: 'version' | 'git-sha' | 'version-and-git-sha';
  /** Names of the inferred targets, for teams whose names differ. */
  targetNames?: Partial<Record<InferredTarget, string>>;
  /**
   * Workspace folders of repositories `import-repo` configured. Inside them
   * only folders with a project.json get targets, and only the kinds of
   * target it declares (with their per-arch variants and manifest-push for an
   * image): the import decided what ships, and what it left out (fuzz
   * crates, devcontainers, test images, a CLI's bundle Dockerfile) is not
   * inferred back in.
   */
  importedRepositories?: string[];
  /** Inputs added to every inferred target (for example the plugin's own sources, where it lives in the workspace). */
  inputs?: NonNullable<TargetConfiguration['inputs']>;
}

export type InferredTarget = 'cargo-cross' | 'go-cross' | 'docker-arch-build' | 'manifest-push' | 'arch-integration';
