#!/usr/bin/env python3
"""Writes the Helm 3 release Secrets of the examples.

    python3 examples/tools/helm_release.py

Helm 3 stores each revision of a release as a Secret `sh.helm.release.v1.<name>.v<revision>`
of type `helm.sh/release.v1`, labelled owner/name/status/version. Its `release` key holds the
release as base64(gzip(JSON)); the Secret's `data` adds its own base64 on top. This script
builds that JSON (status, chart metadata, default and user values, the rendered manifest taken
from the example files that carry the release's annotations) and writes:

- examples/helm-release.yaml: release `trading` in namespace `trading`, revision 1 deployed and
  revision 2 failed (an upgrade that timed out), with `autoscaling.enabled: false`;
- examples/fixed/helm-release.yaml: release `trading` in namespace `trading-fixed`, revision 3
  deployed, autoscaling enabled.

Output is deterministic (gzip without a timestamp), so rerunning it without changes to the
examples changes nothing. Standard library only.
"""

import base64
import gzip
import json
import re
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent
RELEASE = "trading"
CHART = "trading"

# The files whose documents the chart renders (those carrying the release annotations are kept).
RENDERED = [
    "rbac.yaml",
    "config.yaml",
    "secrets.yaml",
    "timescaledb.yaml",
    "redis.yaml",
    "feast.yaml",
    "risk-api.yaml",
    "api.yaml",
    "worker.yaml",
    "backup.yaml",
    "networkpolicy.yaml",
    "monitoring.yaml",
]


def rendered_manifest(directory: Path, namespace: str) -> str:
    """The documents of the example that Helm manages (they carry its ownership annotation)."""
    parts = []
    for name in RENDERED:
        path = directory / name
        if not path.exists():
            continue
        text = path.read_text()
        for doc in re.split(r"^---[ \t]*$", text, flags=re.MULTILINE):
            body = "\n".join(
                line for line in doc.strip("\n").splitlines() if not line.lstrip().startswith("#")
            ).strip("\n")
            if f"meta.helm.sh/release-namespace: {namespace}" not in body:
                continue
            parts.append(f"---\n# Source: {CHART}/templates/{name}\n{body}\n")
    return "".join(parts)


def release_json(*, namespace, revision, status, description, first, last, chart_version,
                 app_version, values, config, manifest, notes):
    return {
        "name": RELEASE,
        "info": {
            "first_deployed": first,
            "last_deployed": last,
            "deleted": "",
            "description": description,
            "status": status,
            "notes": notes,
        },
        "chart": {
            "metadata": {
                "name": CHART,
                "version": chart_version,
                "description": "Trading platform: API, risk API, aggregator, Feast, Redis and TimescaleDB",
                "apiVersion": "v2",
                "appVersion": app_version,
                "type": "application",
            },
            "lock": None,
            "templates": [],
            "values": values,
            "schema": None,
            "files": [],
        },
        "config": config,
        "manifest": manifest,
        "version": revision,
        "namespace": namespace,
    }


def secret_yaml(namespace, revision, status, payload) -> str:
    """A release Secret, `payload` being the release dict."""
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=False).encode()
    inner = base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0))
    outer = base64.b64encode(inner).decode()
    return (
        "apiVersion: v1\n"
        "kind: Secret\n"
        "metadata:\n"
        f"  name: sh.helm.release.v1.{RELEASE}.v{revision}\n"
        f"  namespace: {namespace}\n"
        "  labels:\n"
        "    owner: helm\n"
        f"    name: {RELEASE}\n"
        f"    status: {status}\n"
        f'    version: "{revision}"\n'
        "type: helm.sh/release.v1\n"
        "data:\n"
        f"  release: {outer}\n"
    )


FLAWED_VALUES = {
    "image": {"registry": "ghcr.io/example-trading", "pullPolicy": "IfNotPresent"},
    "api": {"replicaCount": 2, "strategy": "Recreate"},
    "riskApi": {"replicaCount": 2, "allowInsecureDefaults": True},
    "aggregator": {"replicaCount": 1, "simulation": {"enabled": True}},
    "autoscaling": {
        "enabled": False,
        "minReplicas": 1,
        "maxReplicas": 3,
        "targetCPUUtilizationPercentage": 80,
    },
    "feast": {"autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 4}},
    "ingress": {
        "enabled": True,
        "className": "nginx",
        "host": "api.trading.example.com",
        "tls": [],
        "cors": {"enabled": True, "allowOrigin": "*"},
    },
    "redis": {"persistence": {"enabled": False}, "service": {"type": "NodePort"}},
    "timescaledb": {"replicaCount": 1, "storageClass": "trading-standard", "backup": {"enabled": False}},
}

FIXED_VALUES = {
    "image": {"registry": "ghcr.io/example-trading", "pullPolicy": "IfNotPresent"},
    "api": {"replicaCount": 3, "strategy": "RollingUpdate"},
    "riskApi": {"replicaCount": 2, "allowInsecureDefaults": False},
    "aggregator": {"replicaCount": 2, "simulation": {"enabled": False}},
    "autoscaling": {
        "enabled": True,
        "minReplicas": 2,
        "maxReplicas": 6,
        "targetCPUUtilizationPercentage": 70,
    },
    "feast": {"autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 4}},
    "ingress": {
        "enabled": True,
        "className": "nginx",
        "host": "api.trading.example.com",
        "tls": [{"secretName": "api-tls", "hosts": ["api.trading.example.com"]}],
        "cors": {"enabled": True, "allowOrigin": "https://app.trading.example.com"},
        "rateLimit": {"rps": 20},
    },
    "redis": {"replicaCount": 3, "persistence": {"enabled": True}, "service": {"type": "ClusterIP"}},
    "timescaledb": {"replicaCount": 3, "storageClass": "trading-retain", "backup": {"enabled": True}},
}


def flawed() -> str:
    ns = "trading"
    manifest = rendered_manifest(EXAMPLES, ns)
    v1 = release_json(
        namespace=ns,
        revision=1,
        status="deployed",
        description="Install complete",
        first="2026-05-20T08:02:11.482913Z",
        last="2026-05-20T08:02:11.482913Z",
        chart_version="0.7.2",
        app_version="1.8.1",
        values=FLAWED_VALUES,
        config={"api": {"image": {"tag": "1.8.1"}}},
        manifest=manifest.replace("trading-0.7.3", "trading-0.7.2").replace('"1.8.2"', '"1.8.1"')
        .replace(":1.8.2", ":1.8.1"),
        notes="The trading API is served at http://api.trading.example.com",
    )
    v2 = release_json(
        namespace=ns,
        revision=2,
        status="failed",
        description='Upgrade "trading" failed: timed out waiting for the condition',
        first="2026-05-20T08:02:11.482913Z",
        last="2026-05-28T14:37:52.107344Z",
        chart_version="0.7.3",
        app_version="1.8.2",
        values=FLAWED_VALUES,
        config={"api": {"image": {"tag": "1.8.2"}}},
        manifest=manifest,
        notes="The trading API is served at http://api.trading.example.com",
    )
    header = (
        "# Helm's record of release `trading` (generated by examples/tools/helm_release.py: edit\n"
        "# the script, not this file). Revision 1 deployed; revision 2, the upgrade to chart\n"
        "# 0.7.3, failed: `helm list` shows the release as failed. Its values keep\n"
        "# autoscaling.enabled false. -> helm-release-failed, helm-autoscaling-disabled\n"
    )
    return header + secret_yaml(ns, 1, "deployed", v1) + "---\n" + secret_yaml(ns, 2, "failed", v2)


def fixed() -> str:
    ns = "trading-fixed"
    v3 = release_json(
        namespace=ns,
        revision=3,
        status="deployed",
        description="Upgrade complete",
        first="2026-05-20T08:02:11.482913Z",
        last="2026-05-30T10:21:05.663120Z",
        chart_version="0.8.0",
        app_version="1.9.0",
        values=FIXED_VALUES,
        config={"api": {"image": {"tag": "1.9.0"}}},
        manifest=rendered_manifest(EXAMPLES / "fixed", ns),
        notes="The trading API is served at https://api.trading.example.com",
    )
    header = (
        "# Helm's record of release `trading` (generated by examples/tools/helm_release.py: edit\n"
        "# the script, not this file). Revision 3 deployed, with autoscaling enabled.\n"
    )
    return header + secret_yaml(ns, 3, "deployed", v3)


def main() -> int:
    (EXAMPLES / "helm-release.yaml").write_text(flawed())
    (EXAMPLES / "fixed" / "helm-release.yaml").write_text(fixed())
    return 0


if __name__ == "__main__":
    sys.exit(main())
