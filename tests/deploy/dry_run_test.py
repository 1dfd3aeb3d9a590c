#!/usr/bin/env python3
"""deploy.k8s_dry_run_server: every manifest of the kit through `kubectl apply --dry-run=server`
against a real kube-apiserver 1.30 (scripts/kube-apiserver), beside the offline checks.

  1. CRDs for real, first: the ServiceMonitor CRD of prometheus-operator v0.70.0, Gatekeeper
     v3.16.3's ConstraintTemplate CRD (both from the Go module proxy, checksums verified by Go),
     and, as Gatekeeper's controller would make them, one constraint CRD per template of ours
     (its parameters schema, Gatekeeper's own match schema).
  2. The namespace for real (objects in it cannot be dry-run before it exists).
  3. Dry runs, client-side and server-side apply: the base, both overlays, the ServiceMonitor,
     the Secret template, the Gatekeeper templates and constraints. Known-bad samples
     (tests/deploy/k8s-bad) must be refused, so the dry run is known to check.
  4. Pod Security admission for real: each overlay's pod (as the StatefulSet controller would
     make it) is dry-run created in the namespace as that overlay labels it; the dpdk pod must
     be refused where the plain overlay enforces "restricted".

usage: dry_run_test.py ROOT WORK KUBE_ENV GATEKEEPER_DIR PROMETHEUS_OPERATOR_DIR
"""
import copy, glob, json, os, re, subprocess, sys

import yaml

root, work, kube_env, gk_dir, po_dir = sys.argv[1:6]
env = dict(l.split("=", 1) for l in open(kube_env).read().split())
kubectl = [env["KUBECTL"], "--kubeconfig", env["KUBECONFIG"], "--request-timeout", "60s"]
failures = []


def run(args, stdin=None, expect_ok=True, what="", reason=None):
    """kubectl ARGS; expect_ok False: must fail, with `reason` in its output."""
    p = subprocess.run(kubectl + args, input=stdin, capture_output=True, text=True)
    out = (p.stdout + p.stderr).strip()
    ok = p.returncode == 0
    if not expect_ok and not ok and reason and reason not in out:
        failures.append(f"{what}: refused, but not for '{reason}': {out}")
        print("FAIL", what, f"refused, but not for '{reason}':\n    " + out.replace("\n", "\n    "))
    elif ok != expect_ok:
        failures.append(f"{what or ' '.join(args)}: {'refused' if expect_ok else 'accepted'}: {out}")
        print("FAIL", what or " ".join(args), "\n    " + out.replace("\n", "\n    "))
    else:
        print("ok  ", what or " ".join(args), "" if expect_ok else f"(refused: {out.splitlines()[-1][:160]})")
    return out


def dump(objs):
    return "\n---\n".join(yaml.safe_dump(o, sort_keys=False) for o in objs)


# --- 1. CRDs ---------------------------------------------------------------------------------
crds = [
    os.path.join(po_dir, "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml"),
    os.path.join(gk_dir, "charts/gatekeeper/crds/constrainttemplate-customresourcedefinition.yaml"),
]
# Gatekeeper's match schema, from the Go string constant it compiles in (backquotes inside it are
# spliced in as `+"`"+`).
src = open(os.path.join(gk_dir, "pkg/target/matchcrd_constant.go")).read().replace('`+"`"+`', "'")
match_crd = yaml.safe_load(re.search(r"const matchYAML = `(.*?)`", src, re.S).group(1))
match_schema = match_crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["embeddedMatch"]
assert {"kinds", "namespaces", "excludedNamespaces", "labelSelector"} <= set(match_schema["properties"]), match_schema.keys()


def typed(node):
    """The types Gatekeeper's own conversion fills in where controller-gen left them implicit."""
    if isinstance(node, dict):
        node = {k: typed(v) for k, v in node.items()}
        if "type" not in node and "properties" in node:
            node["type"] = "object"
        if "type" not in node and "items" in node:
            node["type"] = "array"
        return node
    return [typed(v) for v in node] if isinstance(node, list) else node


match_schema = typed(match_schema)
constraint_crds = []
for t in sorted(glob.glob(os.path.join(root, "deploy/gatekeeper/templates/*.yaml"))):
    tmpl = yaml.safe_load(open(t))
    kind = tmpl["spec"]["crd"]["spec"]["names"]["kind"]
    params = tmpl["spec"]["crd"]["spec"].get("validation", {}).get("openAPIV3Schema", {"type": "object"})
    schema = {"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": {"type": "object", "properties": {
            "enforcementAction": {"type": "string"},
            "match": match_schema,
            "parameters": params}},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}
    constraint_crds.append({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{kind.lower()}.constraints.gatekeeper.sh"},
        "spec": {"group": "constraints.gatekeeper.sh", "scope": "Cluster",
                 "names": {"kind": kind, "plural": kind.lower(), "singular": kind.lower(), "listKind": kind + "List",
                           "categories": ["constraint", "constraints"]},
                 "versions": [{"name": v, "served": True, "storage": v == "v1beta1", "schema": {"openAPIV3Schema": schema},
                               "subresources": {"status": {}}} for v in ("v1", "v1alpha1", "v1beta1")]}})
open(os.path.join(work, "constraint-crds.yaml"), "w").write(dump(constraint_crds))
for f in crds + [os.path.join(work, "constraint-crds.yaml")]:
    run(["apply", "--server-side", "-f", f], what=f"CRDs for real: {os.path.relpath(f, work if f.startswith(work) else os.path.dirname(f))}")
run(["wait", "--for", "condition=established", "--timeout=60s", "crd", "--all"], what="CRDs established")

# --- 2. the namespace ------------------------------------------------------------------------
run(["apply", "-f", os.path.join(root, "deploy/k3s/base/namespace.yaml")], what="namespace peregrine for real")

# --- 3. dry runs -----------------------------------------------------------------------------
os.chdir(root)
for d in ("deploy/k3s/base", "deploy/k3s/overlays/plain", "deploy/k3s/overlays/dpdk", "deploy/k3s/servicemonitor", "deploy/gatekeeper"):
    run(["apply", "--dry-run=server", "--validate=strict", "-k", d], what=f"apply --dry-run=server -k {d}")
    run(["apply", "--server-side", "--dry-run=server", "--validate=strict", "-k", d], what=f"apply --server-side --dry-run=server -k {d}")
files = ["deploy/k3s/secret-template.yaml"] + sorted(glob.glob("deploy/gatekeeper/constraints/*.yaml"))
for f in files:
    run(["apply", "--dry-run=server", "--validate=strict", "-f", f], what=f"apply --dry-run=server -f {f}")
# The dry run checks: samples the offline validation refuses are refused here too.
for f, reason in (("unknown-field-container.yaml", 'imagePullPolcy'),
                  ("bad-quantity.yaml", "quantities must match the regular expression"),
                  ("wrong-type-replicas.yaml", "cannot unmarshal string into Go struct field"),
                  ("role-misspelled-resourcenames.yaml", 'unknown field "rules[0].resourceName"')):
    run(["apply", "--dry-run=server", "--validate=strict", "-n", "peregrine", "-f", f"tests/deploy/k8s-bad/{f}"],
        expect_ok=False, what=f"tests/deploy/k8s-bad/{f} refused", reason=reason)
bad_constraint = yaml.safe_load(open("deploy/gatekeeper/constraints/trading-runtime-class.yaml"))
bad_constraint["spec"]["parameters"]["allowed"] = "crun"  # a string where the template says array
run(["apply", "--dry-run=server", "--validate=strict", "-f", "-"], stdin=dump([bad_constraint]), expect_ok=False,
    what="a constraint whose parameters break its template's schema refused", reason="spec.parameters.allowed: Invalid value")


# --- 4. Pod Security admission ---------------------------------------------------------------
def rendered(overlay):
    out = subprocess.run(kubectl + ["kustomize", f"deploy/k3s/overlays/{overlay}"], capture_output=True, text=True, check=True).stdout
    return [o for o in yaml.safe_load_all(out) if o]


def pod_of(objs):
    sts = next(o for o in objs if o["kind"] == "StatefulSet")
    t = copy.deepcopy(sts["spec"]["template"])
    spec = t["spec"]
    # What the StatefulSet controller adds: the claim of each volumeClaimTemplate.
    for vct in sts["spec"].get("volumeClaimTemplates", []):
        n = vct["metadata"]["name"]
        spec.setdefault("volumes", []).append({"name": n, "persistentVolumeClaim": {"claimName": f"{n}-{sts['metadata']['name']}-0"}})
    md = dict(t.get("metadata", {}), name=f"{sts['metadata']['name']}-0", namespace="peregrine")
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec}


plain, dpdk = rendered("plain"), rendered("dpdk")
ns = {o: next(x for x in objs if x["kind"] == "Namespace") for o, objs in (("plain", plain), ("dpdk", dpdk))}
sa = [o for o in plain if o["kind"] == "ServiceAccount"]
# What a K3s node has: the RuntimeClass K3s creates for the crun handler it finds.
crun = {"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "crun"}, "handler": "crun"}
run(["apply", "-f", "-"], stdin=dump([ns["plain"]] + sa + [crun]),
    what="plain namespace (enforce restricted), the service account and RuntimeClass crun for real")
run(["create", "--dry-run=server", "-f", "-"], stdin=json.dumps(pod_of(plain)), what="plain pod admitted under restricted")
run(["create", "--dry-run=server", "-f", "-"], stdin=json.dumps(pod_of(dpdk)), expect_ok=False,
    what="dpdk pod refused under restricted", reason='violates PodSecurity "restricted:v1.30"')
run(["apply", "-f", "-"], stdin=dump([ns["dpdk"]]), what="dpdk namespace (enforce privileged) for real")
run(["create", "--dry-run=server", "-f", "-"], stdin=json.dumps(pod_of(dpdk)), what="dpdk pod admitted where its overlay labels the namespace")

if failures:
    print(f"FAIL {len(failures)} check(s)")
    sys.exit(1)
print("ok   every manifest of the kit passes kubectl apply --dry-run=server against kube-apiserver 1.30")
