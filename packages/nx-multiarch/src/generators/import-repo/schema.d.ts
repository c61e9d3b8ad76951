/** Options of `nx g nx-multiarch:import-repo`. */
export interface ImportRepoGeneratorSchema {
  /** The repository folder: inside the workspace (imported in place) or outside (copied in). Relative paths are read from the workspace root. */
  source: string;
  /** Repository name: the prefix of every project name. Default: the source folder's name. */
  name?: string;
  /** Where an outside repository is copied to. Default: <appsDir or packages>/<name>. */
  directory?: string;
  /** Globs, relative to the repository, of folders and files to leave out (examples/**, test/**). */
  exclude?: string | string[];
  /** Update project.json files that exist already: replace the nx-multiarch targets, keep the rest. */
  overwrite?: boolean;
  skipFormat?: boolean;
}
