/** Options of `nx g nx-multiarch:ci-workflow`. */
export interface CiWorkflowGeneratorSchema {
  /** Workflow name and file name (.github/workflows/<name>.yml). Default nx-multiarch. */
  name?: string;
  /** Matrix arches, a comma list or an array. Default: the plugin's arches in nx.json, else amd64, arm64, arm. */
  arches?: string | string[];
  /** The trusted branch: pushes to it (and tags) use the read-write cache token and publish. Default: nx.json defaultBase, else main. */
  mainBranch?: string;
  /** Node.js version for actions/setup-node. Default 20. */
  nodeVersion?: string;
  /** Runner label. Default ubuntu-latest. */
  runsOn?: string;
  /** Command that installs the cross toolchains before building (e.g. "sudo bash tools/setup.sh"). */
  setupCommand?: string;
  /** Replace an existing workflow file of that name. */
  overwrite?: boolean;
  skipFormat?: boolean;
}
