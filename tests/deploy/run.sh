#!/usr/bin/env bash
# The deployment kit's checks, one subcommand per ctest (tests/deploy/CMakeLists.txt).
# usage: tests/deploy/run.sh CHECK WORKDIR [PEREGRINE_BINARY]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
check=$1 work=$2 peregrine=${3:-}
rm -rf "$work" && mkdir -p "$work"
cd "$root"
tool() { "$root/scripts/go-tool" "$1"; }
need() { command -v "$1" >/dev/null || { echo "FAIL: $1 is not installed (scripts/bootstrap installs it)"; exit 1; }; }

case "$check" in
  tool-*)  # fixture: build (or find) the cached Go tool
    tool "${check#tool-}" ;;

  k8s)  # strict validation against the Kubernetes 1.30 API, and the samples that must fail
    v=$(tool k8svalidate)
    "$v" check deploy/k3s/base deploy/k3s/overlays/plain deploy/k3s/overlays/dpdk deploy/k3s/servicemonitor \
      deploy/k3s/secret-template.yaml deploy/gatekeeper deploy/gatekeeper/templates/*.yaml deploy/gatekeeper/constraints/*.yaml
    "$v" negative tests/deploy/k8s-bad/*.yaml
    if out=$("$v" check tests/deploy/kustomize-bad/unknown-field 2>&1); then
      echo "FAIL: a kustomization with an unknown field was accepted"; exit 1
    fi
    grep -q 'unknown field "patchez"' <<<"$out" || { echo "FAIL: wrong error for the bad kustomization: $out"; exit 1; }
    echo "ok   tests/deploy/kustomize-bad/unknown-field refused: ${out#FAIL }" | sed -n 1p
    # What the overlays must render (the issue's list), checked on the real kustomize output.
    "$v" render deploy/k3s/overlays/plain "$work/plain.json"
    "$v" render deploy/k3s/overlays/dpdk "$work/dpdk.json"
    python3 "$root/tests/deploy/rendered_test.py" "$work/plain.json" "$work/dpdk.json" ;;

  configmap)  # the ConfigMap's engine configuration loads in the engine, with the pod's environment
    [[ -x "$peregrine" ]] || { echo "FAIL: no peregrine binary at '$peregrine'"; exit 1; }
    v=$(tool k8svalidate)
    "$v" render deploy/k3s/overlays/plain "$work/plain.json"
    python3 - "$work" <<'PY'
import json, os, sys
work = sys.argv[1]
objs = json.load(open(f"{work}/plain.json"))
cm = next(o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "trading-config")
# The pod mounts the Secret at /etc/peregrine/secrets; here a directory of the test stands in.
os.makedirs(f"{work}/secrets")
cfg = cm["data"]["peregrine.yaml"].replace("/etc/peregrine/secrets/", f"{work}/secrets/")
open(f"{work}/peregrine.yaml", "w").write(cfg)
open(f"{work}/secrets/credentials.txt", "w").write("FRMA01:testpass1\nMM0101:testpass2\n")
open(f"{work}/secrets/admin-token", "w").write("test-token-0123456789\n")
sts = next(o for o in objs if o["kind"] == "StatefulSet")
env = {}
for e in sts["spec"]["template"]["spec"]["containers"][0]["env"]:
    ref = e["valueFrom"]["configMapKeyRef"]
    assert ref["name"] == "trading-config", ref
    env[e["name"]] = cm["data"][ref["key"]]
open(f"{work}/env", "w").write("".join(f"{k}={v}\n" for k, v in env.items()))
want = {"LOW_LATENCY_MODE", "CPU_AFFINITY", "NETWORK_OPTIMIZATION", "CACHE_ENABLED"}
assert set(env) == want, f"pod env from the ConfigMap is {sorted(env)}, want {sorted(want)}"
assert all(v == "true" for v in env.values()), env
PY
    out=$(env $(cat "$work/env") "$peregrine" --check --config "$work/peregrine.yaml")
    echo "$out"
    for want in "ok (4 instruments, 2 firms, 2 users)" "busy-spin (tuning.low_latency_mode)" "TCP_NODELAY on"; do
      grep -qF "$want" <<<"$out" || { echo "FAIL: --check does not say '$want'"; exit 1; }
    done
    # The Secret template's placeholders must never start an engine.
    python3 - "$work" <<'PY'
import re, sys
work = sys.argv[1]
t = open("deploy/k3s/secret-template.yaml").read()
creds = re.search(r"credentials.txt: \|\n((?:    .*\n)+)", t).group(1)
open(f"{work}/secrets/credentials.txt", "w").write("".join(l[4:] + "\n" for l in creds.splitlines()))
PY
    if bad=$(env $(cat "$work/env") "$peregrine" --check --config "$work/peregrine.yaml" 2>&1); then
      echo "FAIL: the Secret template's placeholder passwords were accepted"; exit 1
    fi
    grep -q "credentials.txt:.*password" <<<"$bad" || { echo "FAIL: unexpected error for the template: $bad"; exit 1; }
    echo "ok   the Secret template's placeholders are refused: $bad" ;;

  dry-run)  # kubectl apply --dry-run=server against a real kube-apiserver 1.30 (dry_run_test.py)
    tool kube-apiserver >/dev/null
    GO=$(command -v go || echo /usr/local/go/bin/go)
    # The CRDs the kit needs, from the Go module proxy (go verifies their checksums).
    moddir() { (cd "$work" && GOFLAGS=-mod=mod "$GO" mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'); }
    gk=$(moddir github.com/open-policy-agent/gatekeeper/v3@v3.16.3)
    po=$(moddir github.com/prometheus-operator/prometheus-operator@v0.70.0)
    trap '"$root/scripts/kube-apiserver" stop "$work/kube"' EXIT
    "$root/scripts/kube-apiserver" start "$work/kube" >/dev/null
    python3 "$root/tests/deploy/dry_run_test.py" "$root" "$work" "$work/kube/env" "$gk" "$po" ;;

  opa)  # opa test: the templates' Rego against our rendered manifests and broken variants
    v=$(tool k8svalidate) opa=$(tool opa)
    "$v" rego deploy/gatekeeper/templates/*.yaml "$work/policies"
    "$v" opadata "$work/policies/data.json" plain=deploy/k3s/overlays/plain dpdk=deploy/k3s/overlays/dpdk \
      -- deploy/gatekeeper/constraints/*.yaml
    "$opa" version | sed -n 1p   # sed reads all: head would SIGPIPE opa under pipefail
    "$opa" check "$work/policies" tests/deploy/opa/policies_test.rego
    "$opa" test -v "$work/policies" tests/deploy/opa/policies_test.rego ;;

  gator)  # gator verify: the templates and constraints as Gatekeeper itself runs them
    v=$(tool k8svalidate) gator=$(tool gator)
    "$v" render deploy/k3s/overlays/plain "$work/plain.json"
    "$v" render deploy/k3s/overlays/dpdk "$work/dpdk.json"
    python3 "$root/tests/deploy/gator_suite.py" "$root" "$work"
    "$gator" verify -v "$work/suite" ;;

  promtool-rules)
    need promtool
    promtool check rules deploy/prometheus/rules.yml
    promtool test rules tests/deploy/prometheus/rules_test.yml ;;

  promtool-config)
    need promtool
    # Debian's Prometheus 2.42 is built without Kubernetes service discovery, so promtool does
    # not know kubernetes_sd_configs: check the file with that block replaced by a static target
    # (everything else, relabelling included, as written) and check the block's shape here.
    python3 - "$work" <<'PY'
import sys, yaml
work = sys.argv[1]
c = yaml.safe_load(open("deploy/prometheus/prometheus.yml"))
assert c["rule_files"] == ["rules.yml"], c["rule_files"]
for j in c["scrape_configs"]:
    sd = j.pop("kubernetes_sd_configs")
    assert sd == [{"role": "pod", "namespaces": {"names": ["peregrine"]}}], sd
    j["static_configs"] = [{"targets": ["127.0.0.1:8080"]}]
yaml.safe_dump(c, open(f"{work}/prometheus.yml", "w"))
PY
    cp deploy/prometheus/rules.yml "$work/"
    promtool check config "$work/prometheus.yml" ;;

  grafana)
    [[ -x "$peregrine" ]] || { echo "FAIL: no peregrine binary at '$peregrine'"; exit 1; }
    python3 "$root/tests/deploy/grafana_test.py" "$peregrine" ;;

  coverage)  # every file under deploy/ is one that some check above reads
    python3 "$root/tests/deploy/coverage_test.py" ;;

  *) echo "unknown check $check"; exit 2 ;;
esac
