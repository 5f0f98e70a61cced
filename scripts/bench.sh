#!/usr/bin/env bash
# Benchmarks prodready against the tools users would pick instead, and against this machine's
# floor. Prints one table per benchmark (markdown, ready for BENCHMARKS.md).
#
#   scripts/bench.sh [audit] [small] [webhook] [controller] [engine]     (default: all of them)
#
# BENCH_WORKLOADS=1000,10000 sets the corpus sizes, BENCH_CORPUS=synthetic,realworld the corpora
# of the audit table, BENCH_PEERS=kube-score,polaris the peers in the audit tables (trivy and
# checkov take minutes per run at 10,000), BENCH_LIMIT the seconds after which a peer's run is
# stopped (1800; 0 for none), BENCH_RUNS the runs of the small audit (200), BENCH_RATES=100,500,1000
# the webhook rates.
#
# The audit benchmarks find or build the peers with scripts/peers.sh, at pinned versions, under
# the cache directory, and reuse them on later runs. Set PRODREADY_BENCH_DIR to put them
# elsewhere, PRODREADY_REALWORLD to replicate other manifests.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { printf '[bench] %s\n' "$*" >&2; }

machine() {
	echo "## Machine"
	echo
	echo "- $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "- $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) memory; $(uname -sr)"
	echo "- $(rustc --version); $(go version | cut -d' ' -f3)"
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
}

steps=("$@")
if ((${#steps[@]} == 0)); then steps=(engine small audit webhook controller); fi

machine
for step in "${steps[@]}"; do
	case "$step" in
	engine) cargo bench --quiet --bench engine_figures -- --bench ;;
	audit)
		cargo bench --quiet --bench audit_peers -- ${BENCH_WORKLOADS:+--workloads "$BENCH_WORKLOADS"} \
			${BENCH_CORPUS:+--corpus "$BENCH_CORPUS"} ${BENCH_PEERS:+--only "$BENCH_PEERS"} \
			${BENCH_LIMIT:+--limit "$BENCH_LIMIT"}
		;;
	small)
		cargo bench --quiet --bench small_audit -- ${BENCH_RUNS:+--runs "$BENCH_RUNS"} \
			${BENCH_PEERS:+--only "$BENCH_PEERS"}
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
		log "unknown benchmark $step (audit, small, webhook, controller, engine)"
		exit 2
		;;
	esac
done
