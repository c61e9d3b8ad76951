# shellcheck shell=bash
# The one-line source changes of the benchmarks' change scenarios, made in a
# clone (never in this checkout), each checked to have applied: run.sh and
# baseline-buildx.sh make the same edits, so the plugin and the baselines
# rebuild the same thing.

# edit_proxy_line CLONE: a string in linkerd2-proxy's src/version.rs.
edit_proxy_line() {
  local file="$1/packages/linkerd2-proxy/src/version.rs"
  sed -i 's#"{} {} linux/{}"#"{} {} linux/{} (bench edit)"#' "$file"
  grep -q 'bench edit' "$file" || die "the proxy edit did not apply" "update edit_proxy_line in tools/lib/bench-edits.sh to a line of src/version.rs"
}

# edit_controller_line CLONE: a string constant in the controller's main.go.
edit_controller_line() {
  local file="$1/packages/linkerd2/controller/main.go"
  sed -i 's#^const name = "linkerd2-controller"$#const name = "linkerd2-controller-bench"#' "$file"
  grep -q 'linkerd2-controller-bench' "$file" || die "the controller edit did not apply" "update edit_controller_line in tools/lib/bench-edits.sh to a line of controller/main.go"
}
