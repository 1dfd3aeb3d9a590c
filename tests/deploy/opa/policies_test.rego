# Unit tests (opa test, OPA 0.60 as in Gatekeeper 3.15) for the Rego of the ConstraintTemplates
# in deploy/gatekeeper/templates. The test extracts each template's Rego to a file and loads
# data.json from `k8svalidate opadata`: data.rendered.<overlay> is the kustomize output of
# deploy/k3s/overlays/<overlay>, data.constraints.<Kind> the parameters of our Constraint of that
# kind. So these tests judge our real manifests with our real parameters: they must pass every
# constraint, and each deliberately broken variant must fail the constraint it breaks, with
# the expected message.
package peregrine.gatekeeper_test

import data.peregrineallowedimages
import data.peregrinecapabilities
import data.peregrineguaranteedqos
import data.peregrineleaseonlyrbac
import data.peregrinelockdown
import data.peregrinenodeselector
import data.peregrineprobes
import data.peregrineruntimeclass

sts(overlay) = o {
	o := data.rendered[overlay][_]
	o.kind == "StatefulSet"
}

# The Pod the StatefulSet controller would create from the template.
pod(overlay) = p {
	t := sts(overlay).spec.template
	p := {"apiVersion": "v1", "kind": "Pod", "metadata": object.union(t.metadata, {"name": "trading-service-0", "namespace": "peregrine"}), "spec": t.spec}
}

review(obj, kind) = {"review": {"object": obj, "kind": {"group": "", "kind": obj.kind}}, "parameters": data.constraints[kind]}

# Each template with its constraint kind.
msgs(obj, "PeregrineGuaranteedQoS") = {m | peregrineguaranteedqos.violation[v] with input as review(obj, "PeregrineGuaranteedQoS"); m := v.msg}
msgs(obj, "PeregrineNodeSelector") = {m | peregrinenodeselector.violation[v] with input as review(obj, "PeregrineNodeSelector"); m := v.msg}
msgs(obj, "PeregrineAllowedImages") = {m | peregrineallowedimages.violation[v] with input as review(obj, "PeregrineAllowedImages"); m := v.msg}
msgs(obj, "PeregrineLockdown") = {m | peregrinelockdown.violation[v] with input as review(obj, "PeregrineLockdown"); m := v.msg}
msgs(obj, "PeregrineCapabilities") = {m | peregrinecapabilities.violation[v] with input as review(obj, "PeregrineCapabilities"); m := v.msg}
msgs(obj, "PeregrineRuntimeClass") = {m | peregrineruntimeclass.violation[v] with input as review(obj, "PeregrineRuntimeClass"); m := v.msg}
msgs(obj, "PeregrineProbes") = {m | peregrineprobes.violation[v] with input as review(obj, "PeregrineProbes"); m := v.msg}
msgs(obj, "PeregrineLeaseOnlyRBAC") = {m | peregrineleaseonlyrbac.violation[v] with input as review(obj, "PeregrineLeaseOnlyRBAC"); m := v.msg}

kinds := ["PeregrineGuaranteedQoS", "PeregrineNodeSelector", "PeregrineAllowedImages", "PeregrineLockdown", "PeregrineCapabilities", "PeregrineRuntimeClass", "PeregrineProbes", "PeregrineLeaseOnlyRBAC"]

# Every constraint kind has parameters from deploy/gatekeeper/constraints (none forgotten).
test_every_template_has_a_constraint {
	count({k | k := kinds[_]; data.constraints[k]}) == count(kinds)
}

# ---- our own manifests pass every constraint, as StatefulSet and as the Pod it creates ----

objects_under_test[[name, obj]] {
	name := ["plain", "dpdk"][_]
	obj := sts(name)
}
objects_under_test[[name, obj]] {
	name := ["plain", "dpdk"][_]
	obj := pod(name)
}

test_rendered_overlays_have_the_workload {
	sts("plain").metadata.name == "trading-service"
	sts("dpdk").metadata.name == "trading-service"
}

test_our_manifests_pass_every_constraint {
	failures := {[name, obj.kind, k, m] | objects_under_test[[name, obj]]; k := kinds[_]; m := msgs(obj, k)[_]}
	trace(sprintf("failures: %v", [failures]))
	count(failures) == 0
	count(objects_under_test) == 4
}

# ---- deliberately bad variants: each fails the constraint it breaks ----

patched(overlay, ops) = json.patch(sts(overlay), ops)
c0 := "/spec/template/spec/containers/0"

fails(obj, kind, want) {
	some m
	msgs(obj, kind)[m]
	contains(m, want)
}

# Guaranteed QoS
test_qos_requests_below_limits {
	fails(patched("plain", [{"op": "replace", "path": concat("", [c0, "/resources/requests/cpu"]), "value": "500m"}]), "PeregrineGuaranteedQoS", "resources.requests.cpu (500m) must equal resources.limits.cpu (2)")
}
test_qos_memory_requests_below_limits {
	fails(patched("plain", [{"op": "replace", "path": concat("", [c0, "/resources/requests/memory"]), "value": "512Mi"}]), "PeregrineGuaranteedQoS", "resources.requests.memory (512Mi) must equal")
}
test_qos_same_quantity_other_unit_passes {
	count(msgs(patched("plain", [{"op": "replace", "path": concat("", [c0, "/resources/requests/memory"]), "value": "2048Mi"}]), "PeregrineGuaranteedQoS")) == 0
}
test_qos_fractional_cpu {
	obj := patched("plain", [
		{"op": "replace", "path": concat("", [c0, "/resources/requests/cpu"]), "value": "1500m"},
		{"op": "replace", "path": concat("", [c0, "/resources/limits/cpu"]), "value": "1500m"},
	])
	fails(obj, "PeregrineGuaranteedQoS", "CPU limit 1500m is not a whole number")
}
test_qos_no_limits {
	fails(patched("plain", [{"op": "remove", "path": concat("", [c0, "/resources/limits"])}]), "PeregrineGuaranteedQoS", "resources.limits.cpu is required")
}
test_qos_customer_sketch_is_burstable {
	# The customer's sketch: requests 500m / 512Mi, limits 2 / 2Gi.
	obj := patched("plain", [{"op": "replace", "path": concat("", [c0, "/resources"]), "value": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "2Gi"}}}])
	count(msgs(obj, "PeregrineGuaranteedQoS")) == 2
}

# Node selector
test_nodeselector_missing {
	fails(patched("plain", [{"op": "remove", "path": "/spec/template/spec/nodeSelector"}]), "PeregrineNodeSelector", "nodeSelector node-type=edge is required")
}
test_nodeselector_other_value {
	fails(patched("plain", [{"op": "replace", "path": "/spec/template/spec/nodeSelector", "value": {"node-type": "core"}}]), "PeregrineNodeSelector", "nodeSelector node-type=edge is required")
}

# Images
image(obj_image) = patched("plain", [{"op": "replace", "path": concat("", [c0, "/image"]), "value": obj_image}])
test_image_latest {
	fails(image("registry.peregrine.internal/peregrine/engine:latest"), "PeregrineAllowedImages", "uses the tag latest")
}
test_image_untagged {
	fails(image("registry.peregrine.internal/peregrine/engine"), "PeregrineAllowedImages", "has no tag")
}
test_image_untagged_with_registry_port {
	# The ":5000" of a registry port is not a tag.
	fails(patched("plain", [{"op": "replace", "path": concat("", [c0, "/image"]), "value": "registry.peregrine.internal:5000/peregrine/engine"}]), "PeregrineAllowedImages", "has no tag")
}
test_image_other_registry {
	fails(image("docker.io/library/peregrine:0.1.0"), "PeregrineAllowedImages", "is not from an allowed registry")
}
test_image_digest_passes {
	count(msgs(image("registry.peregrine.internal/peregrine/engine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), "PeregrineAllowedImages")) == 0
}
test_image_require_digest {
	obj := sts("plain")
	inp := {"review": {"object": obj}, "parameters": object.union(data.constraints.PeregrineAllowedImages, {"requireDigest": true})}
	some v
	peregrineallowedimages.violation[v] with input as inp
	contains(v.msg, "must be pinned by digest")
}

# Lockdown
test_lockdown_root {
	fails(patched("plain", [{"op": "replace", "path": "/spec/template/spec/securityContext/runAsNonRoot", "value": false}]), "PeregrineLockdown", "runAsNonRoot must be true")
}
test_lockdown_container_overrides_pod {
	fails(patched("plain", [{"op": "add", "path": concat("", [c0, "/securityContext/runAsNonRoot"]), "value": false}]), "PeregrineLockdown", "runAsNonRoot must be true")
}
test_lockdown_uid_0 {
	fails(patched("plain", [{"op": "replace", "path": "/spec/template/spec/securityContext/runAsUser", "value": 0}]), "PeregrineLockdown", "runAsUser 0")
}
test_lockdown_privilege_escalation {
	fails(patched("plain", [{"op": "remove", "path": concat("", [c0, "/securityContext/allowPrivilegeEscalation"])}]), "PeregrineLockdown", "allowPrivilegeEscalation must be false")
}
test_lockdown_writable_root {
	fails(patched("plain", [{"op": "replace", "path": concat("", [c0, "/securityContext/readOnlyRootFilesystem"]), "value": false}]), "PeregrineLockdown", "readOnlyRootFilesystem must be true")
}
test_lockdown_privileged {
	fails(patched("plain", [{"op": "replace", "path": concat("", [c0, "/securityContext/privileged"]), "value": true}]), "PeregrineLockdown", "privileged containers are not allowed")
}
test_lockdown_host_network {
	fails(patched("plain", [{"op": "add", "path": "/spec/template/spec/hostNetwork", "value": true}]), "PeregrineLockdown", "hostNetwork is not allowed")
}

# Capabilities
test_caps_plain_pod_adds_ipc_lock {
	fails(patched("plain", [{"op": "add", "path": concat("", [c0, "/securityContext/capabilities/add"]), "value": ["IPC_LOCK"]}]), "PeregrineCapabilities", "allowed only on pods labelled peregrine.io/dataplane=dpdk")
}
test_caps_dpdk_pod_adds_net_admin {
	fails(patched("dpdk", [{"op": "add", "path": concat("", [c0, "/securityContext/capabilities/add/-"]), "value": "NET_ADMIN"}]), "PeregrineCapabilities", "capability NET_ADMIN is not one DPDK needs")
}
test_caps_dpdk_pod_adds_sys_admin_with_prefix {
	fails(patched("dpdk", [{"op": "add", "path": concat("", [c0, "/securityContext/capabilities/add/-"]), "value": "CAP_SYS_ADMIN"}]), "PeregrineCapabilities", "capability CAP_SYS_ADMIN is not one DPDK needs")
}
test_caps_no_drop_all {
	fails(patched("plain", [{"op": "remove", "path": concat("", [c0, "/securityContext/capabilities/drop"])}]), "PeregrineCapabilities", "capabilities.drop must contain ALL")
}
test_caps_dpdk_caps_without_label {
	# The dpdk overlay's container without the dpdk label on the pod.
	fails(patched("dpdk", [{"op": "remove", "path": "/spec/template/metadata/labels/peregrine.io~1dataplane"}]), "PeregrineCapabilities", "allowed only on pods labelled")
}

# RuntimeClass
test_runtimeclass_missing {
	fails(patched("plain", [{"op": "remove", "path": "/spec/template/spec/runtimeClassName"}]), "PeregrineRuntimeClass", "runtimeClassName  is not one of")
}
test_runtimeclass_other {
	fails(patched("plain", [{"op": "replace", "path": "/spec/template/spec/runtimeClassName", "value": "runc"}]), "PeregrineRuntimeClass", "runtimeClassName runc is not one of")
}

# Probes
test_probes_no_readiness {
	fails(patched("plain", [{"op": "remove", "path": concat("", [c0, "/readinessProbe"])}]), "PeregrineProbes", "readinessProbe is required")
}
test_probes_no_liveness {
	fails(patched("plain", [{"op": "remove", "path": concat("", [c0, "/livenessProbe"])}]), "PeregrineProbes", "livenessProbe is required")
}

# A bad Pod (not only a bad StatefulSet) is caught too.
test_bad_pod_is_caught {
	p := json.patch(pod("plain"), [{"op": "replace", "path": "/spec/containers/0/image", "value": "registry.peregrine.internal/peregrine/engine:latest"}])
	fails(p, "PeregrineAllowedImages", "uses the tag latest")
}

# Lease-only RBAC (deploy/k3s/base/lease.yaml, docs/ha.md)
rendered_kind(overlay, kind) = o {
	o := data.rendered[overlay][_]
	o.kind == kind
}
role := rendered_kind("plain", "Role")
test_rbac_ours_passes {
	objs := [rendered_kind(o, k) | o := ["plain", "dpdk"][_]; k := ["Role", "RoleBinding"][_]]
	count(objs) == 4
	count({m | o := objs[_]; m := msgs(o, "PeregrineLeaseOnlyRBAC")[_]}) == 0
}
test_rbac_wildcard_verb {
	fails(json.patch(role, [{"op": "replace", "path": "/rules/0/verbs", "value": ["*"]}]), "PeregrineLeaseOnlyRBAC", "verb * is not one of")
}
test_rbac_delete_verb {
	fails(json.patch(role, [{"op": "add", "path": "/rules/0/verbs/-", "value": "delete"}]), "PeregrineLeaseOnlyRBAC", "verb delete is not one of")
}
test_rbac_every_lease {
	fails(json.patch(role, [{"op": "remove", "path": "/rules/0/resourceNames"}]), "PeregrineLeaseOnlyRBAC", "must name its Leases")
}
test_rbac_other_resource {
	fails(json.patch(role, [{"op": "add", "path": "/rules/-", "value": {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}}]), "PeregrineLeaseOnlyRBAC", "only Leases (coordination.k8s.io) are allowed")
}
test_rbac_wildcard_resource {
	fails(json.patch(role, [{"op": "replace", "path": "/rules/0/resources", "value": ["*"]}]), "PeregrineLeaseOnlyRBAC", "only Leases (coordination.k8s.io) are allowed")
}
test_rbac_binding_to_a_cluster_role {
	b := json.patch(rendered_kind("plain", "RoleBinding"), [{"op": "replace", "path": "/roleRef/kind", "value": "ClusterRole"}])
	fails(b, "PeregrineLeaseOnlyRBAC", "only Roles may be bound")
}
