#!/usr/bin/env bash
# Benchmarks prodready against the tools users would pick instead, and against this machine's
# floor. Prints one table per benchmark (markdown, ready for BENCHMARKS.md).
#
#   scripts/bench.sh [audit] [webhook] [controller] [engine]     (default: all of them)
#
# BENCH_WORKLOADS=1000,10000 sets the corpus sizes, BENCH_PEERS=kube-score,trivy the peers in the
# audit table (checkov takes minutes per run at 10,000), BENCH_RATES=100,500,1000 the webhook rates.
#
# The peers are installed at pinned versions under the cache directory, through the Go module
# proxy and PyPI, and reused on later runs. Set PRODREADY_BENCH_DIR to put them elsewhere.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { printf '[bench] %s\n' "$*" >&2; }

KUBE_SCORE_VERSION=v1.20.0
TRIVY_VERSION=v0.74.0
# Trivy at this version builds on encoding/json/v2, still an experiment in Go 1.26.
TRIVY_GOEXPERIMENT=jsonv2
CHECKOV_VERSION=3.2.400

dir="${PRODREADY_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/prodready/bench}"
mkdir -p "$dir/bin"

# go_tool NAME MODULE VERSION [GOEXPERIMENT]: installs a Go command once per version.
go_tool() {
	local name="$1" module="$2" version="$3" experiment="${4:-}"
	local stamp="$dir/bin/.$name.version"
	if [[ -x "$dir/bin/$name" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; then
		return 0
	fi
	log "installing $name $version (first run only)"
	if GOEXPERIMENT="$experiment" GOTOOLCHAIN=local GOBIN="$dir/bin" go install "$module@$version" >&2; then
		echo "$version" >"$stamp"
	else
		log "could not build $name $version: it is left out of the tables"
	fi
}

install_peers() {
	command -v go >/dev/null || { log "Go is needed to install the peers"; exit 1; }
	go_tool kube-score github.com/zegl/kube-score/cmd/kube-score "$KUBE_SCORE_VERSION"
	go_tool trivy github.com/aquasecurity/trivy/cmd/trivy "$TRIVY_VERSION" "$TRIVY_GOEXPERIMENT"
	if [[ ! -x "$dir/checkov/bin/checkov" || "$(cat "$dir/checkov/.version" 2>/dev/null)" != "$CHECKOV_VERSION" ]]; then
		log "installing checkov $CHECKOV_VERSION (first run only)"
		python3 -m venv "$dir/checkov" >&2
		if "$dir/checkov/bin/pip" install -q "checkov==$CHECKOV_VERSION" >&2; then
			echo "$CHECKOV_VERSION" >"$dir/checkov/.version"
		else
			log "could not install checkov: it is left out of the tables"
		fi
	fi
	# Not served by the module proxy reachable here (checked: every version refused), so not
	# compared: polaris (github.com/fairwindsops/polaris), kube-linter (golang.stackrox.io).
}

machine() {
	echo "## Machine"
	echo
	echo "- $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "- $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) memory; $(uname -sr)"
	echo "- $(rustc --version); $(go version | cut -d' ' -f3)"
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- peers: kube-score $KUBE_SCORE_VERSION, trivy $TRIVY_VERSION, checkov $CHECKOV_VERSION"
	echo
}

steps=("$@")
if ((${#steps[@]} == 0)); then steps=(engine audit webhook controller); fi

machine
for step in "${steps[@]}"; do
	case "$step" in
	engine) cargo bench --quiet --bench engine_figures -- --bench ;;
	audit)
		install_peers
		cargo bench --quiet --bench audit_peers -- --peers "$dir" \
			${BENCH_WORKLOADS:+--workloads "$BENCH_WORKLOADS"} ${BENCH_PEERS:+--only "$BENCH_PEERS"}
		;;
	webhook) cargo bench --quiet --bench webhook_load -- ${BENCH_RATES:+--rates "$BENCH_RATES"} ;;
	controller)
		# What the caches hold per object, counted exactly in-process, then the whole process
		# against a real control plane.
		cargo bench --quiet --bench live_memory -- --bench
		BIN="$(tests/controlplane/build.sh | tail -1)"
		PRODREADY_CONTROLPLANE_BIN="$BIN" cargo bench --quiet --bench controller_load -- ${BENCH_WORKLOADS:+--workloads "$BENCH_WORKLOADS"}
		;;
	*)
		log "unknown benchmark $step (audit, webhook, controller, engine)"
		exit 2
		;;
	esac
done
