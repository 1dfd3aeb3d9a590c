#!/usr/bin/env python3
"""Writes a gator verify suite (WORK/suite) for deploy/gatekeeper: each template with its
constraint, our rendered StatefulSets and Pods (must pass), and a broken variant per rule (must
fail with the given message). usage: gator_suite.py ROOT WORK  (WORK holds plain.json, dpdk.json)"""
import copy, json, os, shutil, sys

import yaml

root, work = sys.argv[1], sys.argv[2]
suite = os.path.join(work, "suite")
os.makedirs(suite, exist_ok=True)
for d in ("templates", "constraints"):
    shutil.copytree(os.path.join(root, "deploy", "gatekeeper", d), os.path.join(suite, d), dirs_exist_ok=True)


def sts(overlay):
    return next(o for o in json.load(open(os.path.join(work, f"{overlay}.json"))) if o["kind"] == "StatefulSet")


def pod(s):
    t = s["spec"]["template"]
    md = dict(t["metadata"], name="trading-service-0", namespace="peregrine")
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": t["spec"]}


def write(name, obj):
    with open(os.path.join(suite, name), "w") as f:
        yaml.safe_dump(obj, f)
    return name


good = [write(f"good-{o}-{k}.yaml", x) for o in ("plain", "dpdk") for k, x in (("sts", sts(o)), ("pod", pod(sts(o))))]


def rendered(overlay, kind):
    return next(o for o in json.load(open(os.path.join(work, f"{overlay}.json"))) if o["kind"] == kind)


# The kit's RBAC (deploy/k3s/base/lease.yaml): what the Lease-only template must let through.
role, binding = rendered("plain", "Role"), rendered("plain", "RoleBinding")
rbac_good = [write("good-role.yaml", role), write("good-rolebinding.yaml", binding)]


def bad_rbac(obj, change):
    o = copy.deepcopy(obj)
    change(o)
    return o


def bad(overlay, change):
    s = copy.deepcopy(sts(overlay))
    change(s["spec"]["template"]["spec"], s["spec"]["template"]["spec"]["containers"][0], s["spec"]["template"]["metadata"])
    return s


def setres(c, cpu_req):
    c["resources"]["requests"]["cpu"] = cpu_req


cases = {
    # template file: (constraint file, [(case name, object, message substring)])
    "peregrineguaranteedqos": ("trading-guaranteed-qos", [
        ("burstable-cpu", bad("plain", lambda p, c, m: setres(c, "500m")), "must equal resources.limits.cpu"),
        ("fractional-cpu", bad("plain", lambda p, c, m: c["resources"].update(requests={"cpu": "1500m", "memory": "2Gi"}, limits={"cpu": "1500m", "memory": "2Gi"})), "not a whole number of CPUs")]),
    "peregrinenodeselector": ("trading-edge-nodes", [
        ("no-node-selector", bad("plain", lambda p, c, m: p.pop("nodeSelector")), "nodeSelector node-type=edge is required")]),
    "peregrineallowedimages": ("trading-allowed-images", [
        ("latest", bad("plain", lambda p, c, m: c.update(image="registry.peregrine.internal/peregrine/engine:latest")), "uses the tag latest"),
        ("untagged", bad("plain", lambda p, c, m: c.update(image="registry.peregrine.internal/peregrine/engine")), "has no tag"),
        ("other-registry", bad("plain", lambda p, c, m: c.update(image="docker.io/library/peregrine:0.1.0")), "not from an allowed registry")]),
    "peregrinelockdown": ("trading-lockdown", [
        ("root", bad("plain", lambda p, c, m: p["securityContext"].update(runAsNonRoot=False, runAsUser=0)), "runAsNonRoot must be true"),
        ("escalation", bad("plain", lambda p, c, m: c["securityContext"].update(allowPrivilegeEscalation=True)), "allowPrivilegeEscalation must be false"),
        ("writable-root", bad("plain", lambda p, c, m: c["securityContext"].update(readOnlyRootFilesystem=False)), "readOnlyRootFilesystem must be true"),
        ("privileged", bad("plain", lambda p, c, m: c["securityContext"].update(privileged=True)), "privileged containers are not allowed")]),
    "peregrinecapabilities": ("trading-capabilities", [
        ("caps-on-plain-pod", bad("plain", lambda p, c, m: c["securityContext"]["capabilities"].update(add=["IPC_LOCK"])), "allowed only on pods labelled"),
        ("net-admin-on-dpdk-pod", bad("dpdk", lambda p, c, m: c["securityContext"]["capabilities"]["add"].append("NET_ADMIN")), "NET_ADMIN is not one DPDK needs"),
        ("no-drop-all", bad("plain", lambda p, c, m: c["securityContext"]["capabilities"].pop("drop")), "capabilities.drop must contain ALL")]),
    "peregrineruntimeclass": ("trading-runtime-class", [
        ("runc", bad("plain", lambda p, c, m: p.update(runtimeClassName="runc")), "runtimeClassName runc is not one of")]),
    # (gator reads each message as a regular expression: * and ( escaped)
    "peregrineleaseonlyrbac": ("trading-lease-only-rbac", [
        ("wildcard-verbs", bad_rbac(role, lambda r: r["rules"][0].update(verbs=["*"])), r"verb \* is not one of"),
        ("create-verb", bad_rbac(role, lambda r: r["rules"][0]["verbs"].append("create")), "verb create is not one of"),
        ("every-lease", bad_rbac(role, lambda r: r["rules"][0].pop("resourceNames")), "must name its Leases"),
        ("secrets-too", bad_rbac(role, lambda r: r["rules"].append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})), r"only Leases \(coordination.k8s.io\) are allowed"),
        ("cluster-admin", bad_rbac(binding, lambda b: b.update(roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"})), "binds ClusterRole cluster-admin")]),
    "peregrineprobes": ("trading-probes", [
        ("no-readiness", bad("plain", lambda p, c, m: c.pop("readinessProbe")), "readinessProbe is required"),
        ("no-liveness", bad("plain", lambda p, c, m: c.pop("livenessProbe")), "livenessProbe is required")]),
}

tests = []
for tmpl, (constraint, bads) in cases.items():
    ours = good + (rbac_good if tmpl == "peregrineleaseonlyrbac" else [])
    tc = [{"name": f"ours-{os.path.splitext(g)[0]}", "object": g, "assertions": [{"violations": "no"}]} for g in ours]
    for name, obj, msg in bads:
        f = write(f"bad-{tmpl}-{name}.yaml", obj)
        tc.append({"name": name, "object": f, "assertions": [{"violations": "yes", "message": msg}]})
    tests.append({"name": tmpl, "template": f"templates/{tmpl}.yaml", "constraint": f"constraints/{constraint}.yaml", "cases": tc})
missing = {os.path.splitext(f)[0] for f in os.listdir(os.path.join(root, "deploy", "gatekeeper", "templates"))} - set(cases)
if missing:
    sys.exit(f"FAIL: templates without gator cases: {sorted(missing)}")
with open(os.path.join(suite, "suite.yaml"), "w") as f:
    yaml.safe_dump({"kind": "Suite", "apiVersion": "test.gatekeeper.sh/v1alpha1", "metadata": {"name": "peregrine"}, "tests": tests}, f, sort_keys=False)
print(f"gator suite: {len(tests)} templates, {sum(len(t['cases']) for t in tests)} cases")
