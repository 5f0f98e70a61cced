#!/usr/bin/env bash
# Builds the control plane the integration tests run against (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, helm, kwok), and promtool for the chart's
# alert tests, from source through the Go module proxy, into a cache directory outside the
# repository keyed by the versions in versions.env.
#
#   BIN=$(tests/controlplane/build.sh | tail -1)
#
# Logs go to stderr; the last line of stdout is the bin directory. A second run with the same
# versions reuses the binaries. Override the cache location with PRODREADY_CONTROLPLANE_DIR.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[controlplane] %s\n' "$*" >&2; }
die() {
	printf '[controlplane] error: %s\n' "$*" >&2
	exit 1
}

# shellcheck source=versions.env
source "$here/versions.env"
: "${KUBERNETES_VERSION:?}" "${ETCD_VERSION:?}" "${HELM_VERSION:?}" "${KWOK_VERSION:?}" "${BUILD_REVISION:?}"
: "${PROMETHEUS_VERSION:?}"

# The Rust test support computes the same key from versions.env; keep the two in step.
key="k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_helm-${HELM_VERSION}_kwok-${KWOK_VERSION}_r${BUILD_REVISION}"
root="${PRODREADY_CONTROLPLANE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/prodready/controlplane/$key}"
bin="$root/bin"
stamp="$root/complete"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl helm kwok)

all_present() {
	[[ -f "$stamp" ]] || return 1
	[[ "$(cat "$stamp")" == "$key" ]] || return 1
	local b
	for b in "${binaries[@]}"; do [[ -x "$bin/$b" ]] || return 1; done
}

# promtool has a stamp of its own: it is not part of the control plane's key.
promtool_stamp="$root/promtool.version"
promtool_present() {
	[[ -x "$bin/promtool" && "$(cat "$promtool_stamp" 2>/dev/null)" == "$PROMETHEUS_VERSION" ]]
}

if all_present && promtool_present; then
	log "reusing $bin"
	echo "$bin"
	exit 0
fi

# Go: the newest wrapper module wants this release; an older toolchain would try to download a
# newer one (GOTOOLCHAIN=auto), which is not what a test build should do behind one's back.
required_go="1.26"
command -v go >/dev/null 2>&1 || die "Go is not installed; install Go >= $required_go (https://go.dev/doc/install) and rerun $0"
export GOTOOLCHAIN=local
go_version="$(go env GOVERSION)"
go_version="${go_version#go}"
if [[ "$(printf '%s\n%s\n' "$required_go" "$go_version" | sort -V | head -1)" != "$required_go" ]]; then
	die "Go $go_version is too old: the control plane needs Go >= $required_go"
fi

# Each go.mod must pin what versions.env says, or the cache key would lie about the contents.
check_pin() {
	local dir="$1" module="$2" version="$3"
	grep -Eq "^[[:space:]]*(require[[:space:]]+)?${module//./\\.}[[:space:]]+${version//./\\.}([[:space:]]|$)" "$here/$dir/go.mod" ||
		die "$dir/go.mod does not require $module $version (versions.env); update one of them"
}
check_pin kubernetes k8s.io/kubernetes "$KUBERNETES_VERSION"
check_pin etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
check_pin helm helm.sh/helm/v3 "$HELM_VERSION"
check_pin kwok sigs.k8s.io/kwok "$KWOK_VERSION"
check_pin prometheus github.com/prometheus/prometheus "$PROMETHEUS_VERSION"

mkdir -p "$bin"
# Two concurrent builds (e.g. two checkouts) would write the same files.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$root/lock"
	flock 9
	if all_present && promtool_present; then
		log "reusing $bin (built by a concurrent run)"
		echo "$bin"
		exit 0
	fi
fi

# -mod=readonly: the committed go.sum files make the build reproducible; a missing entry is an
# error rather than a silent download of something new.
export GOFLAGS="-buildvcs=false -mod=readonly"
export CGO_ENABLED=0

# timed_build NAME MODULE_DIR OUTPUT GO_BUILD_ARGS...: OUTPUT is a file for one package, the bin
# directory (with a trailing slash) for several.
timed_build() {
	local name="$1" dir="$2" out="$3"
	shift 3
	log "building $name (cold builds take minutes; the Go build cache makes reruns fast)"
	local start=$SECONDS
	(cd "$here/$dir" && go build -trimpath -o "$out" "$@") >&2 || die "building $name failed"
	log "built $name in $((SECONDS - start))s"
}

build_controlplane() {
	rm -f "$stamp"
	k8s_minor="${KUBERNETES_VERSION#v1.}"
	k8s_minor="${k8s_minor%%.*}"
	build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	# The same variables hack/lib/version.sh sets, so /version and `kubectl version` report the release.
	k8s_ldflags="-s -w"
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		k8s_ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
		k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
	done

	timed_build "etcd $ETCD_VERSION" etcd "$bin/etcd" -ldflags "-s -w" go.etcd.io/etcd/server/v3

	# One invocation for the four Kubernetes commands so their shared packages compile once.
	timed_build "Kubernetes $KUBERNETES_VERSION (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl)" \
		kubernetes "$bin/" -ldflags "$k8s_ldflags" \
		k8s.io/kubernetes/cmd/kube-apiserver \
		k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler \
		k8s.io/kubernetes/cmd/kubectl

	timed_build "kwok $KWOK_VERSION" kwok "$bin/kwok" -ldflags "-s -w" sigs.k8s.io/kwok/cmd/kwok

	timed_build "helm $HELM_VERSION" helm "$bin/helm" \
		-ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
		helm.sh/helm/v3/cmd/helm

	for b in "${binaries[@]}"; do [[ -x "$bin/$b" ]] || die "$bin/$b was not produced"; done
	printf '%s' "$key" >"$stamp"
}

build_promtool() {
	rm -f "$promtool_stamp"
	# The module's v0.X.Y is Prometheus X/100 . X%100 . Y (v0.305.1 is 3.5.1).
	local v="${PROMETHEUS_VERSION#v0.}"
	local release="$((10#${v%%.*} / 100)).$((10#${v%%.*} % 100)).${v##*.}"
	timed_build "promtool $release" prometheus "$bin/promtool" \
		-ldflags "-s -w -X github.com/prometheus/common/version.Version=$release" \
		github.com/prometheus/prometheus/cmd/promtool
	[[ -x "$bin/promtool" ]] || die "$bin/promtool was not produced"
	printf '%s' "$PROMETHEUS_VERSION" >"$promtool_stamp"
}

all_present || build_controlplane
promtool_present || build_promtool
log "control plane binaries and promtool ready in $bin"
echo "$bin"
