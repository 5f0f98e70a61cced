#!/usr/bin/env bash
# Finds or builds, at pinned versions, the tools the audit benchmark compares prodready against,
# in the cache directory, and prints that directory. A peer that cannot be built is left out with
# a message on stderr; the others still come.
#
#   scripts/peers.sh [kube-score] [polaris] [trivy] [checkov]      (default: all of them)
#
# PRODREADY_BENCH_DIR: where they go (default: ${XDG_CACHE_HOME:-$HOME/.cache}/prodready/peers).
# PRODREADY_POLARIS_SRC: Polaris' source tarball (default: ../shared/peers/polaris-src.tar.gz
# beside the repository). The module proxy serves no release of Polaris, but it serves every
# module Polaris needs, so it builds from that source.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[peers] %s\n' "$*" >&2; }

KUBE_SCORE_VERSION=v1.20.0
TRIVY_VERSION=v0.74.0
# Trivy at this version builds on encoding/json/v2, still an experiment in Go 1.26.
TRIVY_GOEXPERIMENT=jsonv2
CHECKOV_VERSION=3.2.400

dir="${PRODREADY_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/prodready/peers}"
polaris_src="${PRODREADY_POLARIS_SRC:-$repo/../shared/peers/polaris-src.tar.gz}"
mkdir -p "$dir/bin"

# current NAME STAMP: whether NAME is built and was built from STAMP.
current() { [[ -x "$dir/bin/$1" && "$(cat "$dir/bin/.$1.version" 2>/dev/null)" == "$2" ]]; }

# go_tool NAME MODULE VERSION [GOEXPERIMENT]: installs a Go command once per version.
go_tool() {
	local name="$1" module="$2" version="$3" experiment="${4:-}"
	current "$name" "$version" && return 0
	log "installing $name $version (first run only)"
	if GOEXPERIMENT="$experiment" GOTOOLCHAIN=local GOBIN="$dir/bin" go install "$module@$version" >&2; then
		echo "$version" >"$dir/bin/.$name.version"
	else
		log "could not build $name $version: it is left out of the tables"
	fi
}

# Polaris from its source tarball, rebuilt when the tarball changes.
polaris() {
	if [[ ! -f "$polaris_src" ]]; then
		# Without the source, the build there is (if any) is the one to use.
		[[ -x "$dir/bin/polaris" ]] ||
			log "no Polaris source at $polaris_src (set PRODREADY_POLARIS_SRC): Polaris is left out"
		return 0
	fi
	local stamp src
	stamp="source tarball, sha256 $(sha256sum "$polaris_src" | cut -c1-16)"
	current polaris "$stamp" && return 0
	log "building Polaris from $polaris_src (first run only, minutes)"
	src="$(mktemp -d)"
	tar -xzf "$polaris_src" -C "$src"
	if (cd "$src" && GOTOOLCHAIN=local GOFLAGS=-buildvcs=false go build -o "$dir/bin/polaris" .) >&2; then
		echo "$stamp" >"$dir/bin/.polaris.version"
	else
		log "could not build Polaris: it is left out of the tables"
	fi
	rm -rf "$src"
}

checkov() {
	[[ -x "$dir/checkov/bin/checkov" && "$(cat "$dir/checkov/.version" 2>/dev/null)" == "$CHECKOV_VERSION" ]] && return 0
	log "installing checkov $CHECKOV_VERSION (first run only)"
	python3 -m venv "$dir/checkov" >&2
	if "$dir/checkov/bin/pip" install -q "checkov==$CHECKOV_VERSION" >&2; then
		echo "$CHECKOV_VERSION" >"$dir/checkov/.version"
	else
		log "could not install checkov: it is left out of the tables"
	fi
}

peers=("$@")
if ((${#peers[@]} == 0)); then peers=(kube-score polaris trivy checkov); fi
for peer in "${peers[@]}"; do
	case "$peer" in
	kube-score | polaris | trivy)
		command -v go >/dev/null || { log "Go is needed to build $peer: it is left out"; continue; }
		;;&
	kube-score) go_tool kube-score github.com/zegl/kube-score/cmd/kube-score "$KUBE_SCORE_VERSION" ;;
	polaris) polaris ;;
	trivy) go_tool trivy github.com/aquasecurity/trivy/cmd/trivy "$TRIVY_VERSION" "$TRIVY_GOEXPERIMENT" ;;
	checkov) checkov ;;
	*) log "unknown peer $peer (kube-score, polaris, trivy, checkov)" ;;
	esac
done
echo "$dir"
