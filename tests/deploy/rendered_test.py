#!/usr/bin/env python3
"""The rendered overlays (kustomize output, JSON from `k8svalidate render`) hold what issue #6
asks of the K3s manifests. usage: rendered_test.py PLAIN.json DPDK.json"""
import json, sys

failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)


def cpu(q):
    q = str(q)
    return int(q[:-1]) / 1000 if q.endswith("m") else float(q)


def check(path, dpdk):
    objs = json.load(open(path))
    by = {(o["kind"], o["metadata"]["name"]): o for o in objs}
    name = "dpdk" if dpdk else "plain"
    expect(("Namespace", "peregrine") in by, f"{name}: Namespace peregrine")
    for o in objs:
        if o["kind"] != "Namespace":
            expect(o["metadata"].get("namespace") == "peregrine", f"{name}: {o['kind']}/{o['metadata']['name']} in namespace peregrine")
    cm = by.get(("ConfigMap", "trading-config"), {}).get("data", {})
    for k in ("low_latency_mode", "cpu_affinity", "network_optimization", "cache_enabled"):
        expect(cm.get(k) == "true", f"{name}: ConfigMap trading-config {k}: \"true\"")
    expect("peregrine.yaml" in cm, f"{name}: ConfigMap carries peregrine.yaml")
    expect(not any(o["kind"] == "Secret" for o in objs), f"{name}: no Secret in the kustomization (template only)")

    sts = by[("StatefulSet", "trading-service")]
    pod = sts["spec"]["template"]["spec"]
    c = pod["containers"][0]
    expect(pod.get("nodeSelector") == {"node-type": "edge"}, f"{name}: nodeSelector node-type: edge")
    expect(pod.get("runtimeClassName") == "crun", f"{name}: runtimeClassName crun")
    res = c["resources"]
    for r in ("cpu", "memory"):
        expect(res["requests"].get(r) == res["limits"].get(r), f"{name}: requests.{r} == limits.{r} (Guaranteed)")
    expect(cpu(res["limits"]["cpu"]) >= 1 and cpu(res["limits"]["cpu"]).is_integer(), f"{name}: integer CPUs")
    expect(c["livenessProbe"]["httpGet"]["path"] == "/healthz", f"{name}: liveness on /healthz")
    expect(c["readinessProbe"]["httpGet"]["path"] == "/readyz", f"{name}: readiness on /readyz")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    # The engine's drain has an 800 ms deadline (src/app/server.cpp); a grace period well above
    # it, and short enough not to hold a node drain for long.
    expect(2 <= grace <= 30, f"{name}: terminationGracePeriodSeconds {grace} fits the shut-down")
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    vct = [v["metadata"]["name"] for v in sts["spec"].get("volumeClaimTemplates", [])]
    expect("state" in vct and mounts.get("state") == "/var/lib/peregrine", f"{name}: state volume at /var/lib/peregrine")
    expect(mounts.get("config") == "/etc/peregrine/config" and mounts.get("secrets") == "/etc/peregrine/secrets", f"{name}: config and secrets mounted")
    expect(c["args"] == ["--config", "/etc/peregrine/config/peregrine.yaml"], f"{name}: engine reads the mounted config")
    ann = sts["spec"]["template"]["metadata"].get("annotations", {})
    expect(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "8080", f"{name}: scrape annotations")
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    expect(ports == {"ouch": 9001, "itch": 9002, "http": 8080}, f"{name}: container ports {ports}")
    svc_ports = {p["port"] for o in objs if o["kind"] == "Service" for p in o["spec"]["ports"]}
    expect({9001, 9002, 8080} <= svc_ports, f"{name}: Services for 9001, 9002, 8080")
    expect(sts["spec"]["serviceName"] in {n for (k, n) in by if k == "Service"}, f"{name}: the StatefulSet's governing Service exists")
    pdbs = [o for o in objs if o["kind"] == "PodDisruptionBudget"]
    expect(len(pdbs) == 1 and pdbs[0]["spec"]["selector"]["matchLabels"].items() <= sts["spec"]["template"]["metadata"]["labels"].items(),
           f"{name}: a PodDisruptionBudget selecting the engine pods")
    sc = c["securityContext"]
    caps = sc.get("capabilities", {})
    expect(caps.get("drop") == ["ALL"], f"{name}: drop ALL")
    expect(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False, f"{name}: locked down")
    labels = sts["spec"]["template"]["metadata"]["labels"]
    # Pod Security Admission must let the pod in: what the namespace enforces, against what
    # the pod does (baseline allows only its short list of added capabilities; restricted
    # none but NET_BIND_SERVICE, and wants non-root, no escalation, drop ALL, a seccomp profile).
    ns_level = by[("Namespace", "peregrine")]["metadata"]["labels"].get("pod-security.kubernetes.io/enforce", "privileged")
    baseline_caps = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
                     "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
    added = set(caps.get("add", []))
    if ns_level in ("baseline", "restricted"):
        expect(added <= baseline_caps, f"{name}: namespace enforces {ns_level}, which refuses capabilities {sorted(added - baseline_caps)}")
    if ns_level == "restricted":
        expect(added <= {"NET_BIND_SERVICE"} and pod.get("securityContext", {}).get("runAsNonRoot") is True
               and pod.get("securityContext", {}).get("seccompProfile", {}).get("type") == "RuntimeDefault",
               f"{name}: the pod meets the restricted Pod Security Standard its namespace enforces")
    expect(ns_level == ("privileged" if dpdk else "restricted"), f"{name}: namespace enforces {ns_level}")
    if dpdk:
        expect(sorted(caps.get("add", [])) == ["IPC_LOCK", "NET_RAW", "SYS_RESOURCE"], f"dpdk: capabilities {caps.get('add')}")
        hp = res["limits"].get("hugepages-2Mi")
        expect(hp is not None and res["requests"].get("hugepages-2Mi") == hp, "dpdk: hugepages-2Mi requested = limited")
        expect(any(v.get("emptyDir", {}).get("medium") == "HugePages-2Mi" for v in pod["volumes"]), "dpdk: hugepages volume")
        expect(ann.get("k8s.v1.cni.cncf.io/networks") == "peregrine-dpdk", "dpdk: Multus network annotation")
        expect(labels.get("peregrine.io/dataplane") == "dpdk", "dpdk: dataplane label")
    else:
        expect("add" not in caps, f"plain: no added capabilities, got {caps.get('add')}")
        expect(not any(k.startswith("hugepages-") for k in res["limits"]), "plain: no hugepages")
        expect("k8s.v1.cni.cncf.io/networks" not in ann, "plain: no Multus annotation")
        expect(labels.get("peregrine.io/dataplane") == "kernel", "plain: dataplane label kernel")

    # Leadership (issue #15, docs/ha.md): the pods' service account may get and update the one
    # Lease the kit ships, and nothing else; no cluster-wide RBAC.
    sa = pod.get("serviceAccountName")
    expect(("ServiceAccount", sa) in by, f"{name}: the pods' service account {sa} exists")
    expect(("Lease", "trading-service-leader") in by, f"{name}: the Lease trading-service-leader is shipped")
    expect(not any(o["kind"] in ("ClusterRole", "ClusterRoleBinding") for o in objs), f"{name}: no cluster-wide RBAC")
    roles = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Role"}
    expect(list(roles) == ["trading-service-lease"], f"{name}: one Role, got {sorted(roles)}")
    rules = roles.get("trading-service-lease", {}).get("rules", [])
    expect(rules == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                      "resourceNames": ["trading-service-leader"], "verbs": ["get", "update"]}],
           f"{name}: the Role grants get and update on the Lease trading-service-leader only, got {rules}")
    bindings = [o for o in objs if o["kind"] == "RoleBinding"]
    expect(len(bindings) == 1 and bindings[0]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "trading-service-lease"}
           and bindings[0]["subjects"] == [{"kind": "ServiceAccount", "name": sa, "namespace": "peregrine"}],
           f"{name}: one RoleBinding of the Role to the pods' service account")


check(sys.argv[1], dpdk=False)
check(sys.argv[2], dpdk=True)
for f in failures:
    print("FAIL", f)
if failures:
    sys.exit(1)
print("ok   rendered overlays plain and dpdk hold every required property")
