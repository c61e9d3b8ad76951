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
  /** CI provider: github (.github/workflows/<name>.yml) or gitlab (.gitlab-ci.yml). Default github. */
  provider?: string;
  /** Runner label of the publish job and of every arch without another. Default ubuntu-latest (GitLab: saas-linux-small-amd64). */
  runsOn?: string;
  /** Runner per arch: `arm64=ubuntu-24.04-arm,s390x=my-runner` or an object. Each arch must be one the workflow builds. */
  runners?: string | Record<string, string>;
  /** Use the provider's hosted runners of the arch itself where it has them (arm64). Default true. */
  nativeRunners?: boolean;
  /** rustup toolchain the build jobs add each target std to, when the workspace has Rust. Default stable. */
  rustToolchain?: string;
  /** Command that installs the cross toolchains before building (e.g. "sudo bash tools/setup.sh"). */
  setupCommand?: string;
  /** Run Nx's project-graph plugins in worker processes, Nx's default. Default false: the jobs set NX_ISOLATE_PLUGINS=false. */
  isolatePlugins?: boolean;
  /** Replace an existing workflow file of that name. */
  overwrite?: boolean;
  skipFormat?: boolean;
}
