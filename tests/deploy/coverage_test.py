#!/usr/bin/env python3
"""deploy.every_file_checked: every file under deploy/ is read by one of the deployment ctests
(tests/deploy/run.sh, image_test.py, grafana_test.py). A new file that no check reads fails here,
so "every file in deploy/ is checked by CI" stays true."""
import glob, os, sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.chdir(ROOT)

checked = {
    # deploy.image_build_run_drain
    "deploy/docker/Dockerfile",
    # deploy.k8s_manifests_strict (a file outside every kustomization, checked on its own)
    "deploy/k3s/secret-template.yaml",
    # deploy.promtool_rules, deploy.promtool_config
    "deploy/prometheus/rules.yml", "deploy/prometheus/prometheus.yml",
    # deploy.grafana_queries_exported
    "deploy/grafana/dashboards/peregrine.json",
    "deploy/grafana/provisioning/dashboards/peregrine.yaml",
    "deploy/grafana/provisioning/datasources/prometheus.yaml",
}
# deploy.k8s_manifests_strict, deploy.opa_test, deploy.gator_verify: these globs.
checked |= set(glob.glob("deploy/gatekeeper/templates/*.yaml")) | set(glob.glob("deploy/gatekeeper/constraints/*.yaml"))


def reach(d):
    """The kustomization in directory d and every file it pulls in, recursively."""
    k = os.path.join(d, "kustomization.yaml")
    out = {os.path.normpath(k)}
    doc = yaml.safe_load(open(k))
    refs = list(doc.get("resources", [])) + list(doc.get("components", []))
    refs += [p["path"] for p in doc.get("patches", []) if "path" in p]
    refs += list(doc.get("patchesStrategicMerge", []))
    for r in refs:
        p = os.path.normpath(os.path.join(d, r))
        out |= reach(p) if os.path.isdir(p) else {p}
    return out


# The kustomizations deploy.k8s_manifests_strict builds.
for d in ("deploy/k3s/base", "deploy/k3s/overlays/plain", "deploy/k3s/overlays/dpdk", "deploy/k3s/servicemonitor", "deploy/gatekeeper"):
    checked |= reach(d)

files = {os.path.relpath(os.path.join(dp, f)) for dp, _, fs in os.walk("deploy") for f in fs}
unchecked = sorted(files - checked)
gone = sorted(f for f in checked if not os.path.exists(f))
for f in unchecked:
    print(f"FAIL {f}: no deployment ctest reads it (add it to a check in tests/deploy/)")
for f in gone:
    print(f"FAIL {f}: named by a check but missing")
if unchecked or gone:
    sys.exit(1)
print(f"ok   all {len(files)} files under deploy/ are read by a ctest")
