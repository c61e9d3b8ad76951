# shellcheck shell=bash
# compile_bench_steps DEST NAME...: tools/bench/NAME.ts (and plugin.ts, which
# they load the plugin through) transpiled once with TypeScript, the compiler
# the plugin builds with, into DEST, which must lie two folders below the
# repository root like tools/bench/ (plugin.ts finds the compiled plugin from
# there). A step then starts as a compiled executor does, not through a
# transpiler's load (about 0.2 s per process with @swc-node/register).
compile_bench_steps() {
  local dest=$1
  shift
  mkdir -p "$dest"
  node -e '
    const ts = require("typescript"), fs = require("fs"), path = require("path");
    const [from, to, ...names] = process.argv.slice(1);
    for (const name of [...names, "plugin"]) {
      const source = fs.readFileSync(path.join(from, `${name}.ts`), "utf8");
      const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
      fs.writeFileSync(path.join(to, `${name}.js`), out.outputText);
    }
  ' "$REPO_ROOT/tools/bench" "$dest" "$@"
}
