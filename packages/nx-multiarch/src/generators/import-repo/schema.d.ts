/** Options of `nx g nx-multiarch:import-repo`. */
export interface ImportRepoGeneratorSchema {
  /** The repository folder: inside the workspace (imported in place) or outside (copied in). Relative paths are read from the workspace root. */
  source: string;
  /** The prefix of every project name, one per repository. Default: the source folder's name. */
  prefix?: string;
  /** Older spelling of prefix. */
  name?: string;
  /** Where an outside repository is copied to. Default: <appsDir or packages>/<name>. */
  directory?: string;
  /** Globs, relative to the repository, of folders and files to leave out (examples/**, test/**). */
  exclude?: string | string[];
  /** Rule names (fuzz, examples, tests, devcontainer, development) to turn off, or globs of paths to import although a rule leaves them out. */
  include?: string | string[];
  /** The environment variable a release pipeline sets the version in: written as each cross target's versionEnv and cache input. */
  versionEnv?: string;
  /** Update project.json files that exist already: replace the nx-multiarch targets, keep the rest. */
  overwrite?: boolean;
  skipFormat?: boolean;
}
