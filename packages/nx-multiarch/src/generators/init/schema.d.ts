/** Options of `nx g nx-multiarch:init` (also run by `nx add nx-multiarch`). */
export interface InitGeneratorSchema {
  /** Arches to build, a comma list or an array. Default when first registered: amd64, arm64, arm. */
  arches?: string | string[];
  /** Registry host[:port][/prefix] that manifest-push pushes to. */
  registry?: string;
  /** Prefix before every image repository name. */
  repositoryPrefix?: string;
  /** docker-arch-build engine. */
  engine?: 'native' | 'docker' | 'auto';
  /** How manifest-push names tags. */
  tagScheme?: 'version' | 'git-sha' | 'version-and-git-sha';
  /** Skip formatting the files written. */
  skipFormat?: boolean;
  /** Passed by `nx add`; nothing is installed by init, so it changes nothing. */
  keepExistingVersions?: boolean;
}
