// k8svalidate checks Kubernetes manifests offline and strictly against the Kubernetes 1.30 API
// (k8s.io/api v0.30): every object must be of a known apiVersion/kind, and decoding it into the
// Go type of that kind must not meet an unknown field, a duplicate field or a value of the
// wrong type. Kustomizations are built in-process with kustomize's krusty (no kubectl).
//
// usage:
//
//	k8svalidate check PATH...          PATH: a kustomization directory or a YAML file
//	k8svalidate negative FILE...       each FILE must FAIL, with the text of its "# expect-error:" line
//	k8svalidate render DIR OUT.json    the kustomization's objects as a JSON list (for opa test)
//	k8svalidate rego TEMPLATE.yaml... OUTDIR   the Rego of each ConstraintTemplate, one file each
//	k8svalidate opadata OUT.json NAME=DIR... -- CONSTRAINT.yaml...   data for the Rego unit tests
//
// Exit status 0 when everything holds, 1 otherwise; each problem is one line naming the file,
// the document and the object.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// newObject returns an empty Go value for apiVersion/kind, or nil for a kind we do not know.
func newObject(apiVersion, kind string) any {
	switch apiVersion + "/" + kind {
	case "v1/Namespace":
		return &corev1.Namespace{}
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}
	case "v1/Secret":
		return &corev1.Secret{}
	case "v1/Service":
		return &corev1.Service{}
	case "v1/Pod":
		return &corev1.Pod{}
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}
	case "coordination.k8s.io/v1/Lease":
		return &coordinationv1.Lease{}
	case "rbac.authorization.k8s.io/v1/Role":
		return &rbacv1.Role{}
	case "rbac.authorization.k8s.io/v1/RoleBinding":
		return &rbacv1.RoleBinding{}
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	case "node.k8s.io/v1/RuntimeClass":
		return &nodev1.RuntimeClass{}
	case "monitoring.coreos.com/v1/ServiceMonitor":
		return &ServiceMonitor{}
	case "templates.gatekeeper.sh/v1/ConstraintTemplate":
		return &ConstraintTemplate{}
	}
	if apiVersion == "constraints.gatekeeper.sh/v1beta1" {
		return &Constraint{}
	}
	return nil
}

// validateDoc strictly decodes one YAML document. An empty document (comments only) is skipped.
func validateDoc(doc []byte) (string, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return "", fmt.Errorf("YAML: %v", err)
	}
	if head.APIVersion == "" && head.Kind == "" {
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			return "", nil
		}
		return "", fmt.Errorf("document has no apiVersion and kind")
	}
	id := fmt.Sprintf("%s %s/%s", head.APIVersion, head.Kind, head.Metadata.Name)
	obj := newObject(head.APIVersion, head.Kind)
	if obj == nil {
		return id, fmt.Errorf("unknown apiVersion/kind %s/%s (not in the Kubernetes 1.30 API or the CRDs this kit uses)", head.APIVersion, head.Kind)
	}
	if head.Metadata.Name == "" {
		return id, fmt.Errorf("metadata.name is missing")
	}
	// The API server's own decoding: YAML to JSON (duplicate keys refused), then the case-sensitive
	// sigs.k8s.io/json decoder with unknown and duplicate fields refused. (sigs.k8s.io/yaml's
	// UnmarshalStrict would turn `true` into "true" for a string field, which kubectl refuses.)
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return id, err
	}
	strictErrs, err := kjson.UnmarshalStrict(j, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return id, err
	}
	if len(strictErrs) > 0 {
		msgs := make([]string, len(strictErrs))
		for i, e := range strictErrs {
			msgs[i] = e.Error()
		}
		return id, fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	if c, ok := obj.(checker); ok {
		if err := c.check(); err != nil {
			return id, err
		}
	}
	return id, nil
}

type checker interface{ check() error }

var commentLine = regexp.MustCompile(`(?m)^\s*#.*$`)

func stripComments(b []byte) []byte { return commentLine.ReplaceAll(b, nil) }

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

func splitDocs(b []byte) [][]byte {
	var out [][]byte
	for _, d := range docSep.Split(string(b), -1) {
		out = append(out, []byte(d))
	}
	return out
}

// checkFile validates every document of a YAML file; returns the problems found.
func checkFile(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	n := 0
	for i, doc := range splitDocs(b) {
		id, err := validateDoc(doc)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: document %d (%s): %v", path, i+1, id, err))
		} else if id != "" {
			n++
		}
	}
	if len(problems) == 0 && n == 0 {
		problems = append(problems, fmt.Sprintf("%s: no Kubernetes object in the file", path))
	}
	return problems
}

// build runs kustomize (krusty) on a directory and returns each resulting object as YAML.
func build(dir string) ([][]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			return nil, err
		}
		out = append(out, y)
	}
	return out, nil
}

func checkKustomization(dir string) []string {
	docs, err := build(dir)
	if err != nil {
		return []string{fmt.Sprintf("%s: kustomize: %v", dir, err)}
	}
	var problems []string
	for i, doc := range docs {
		id, err := validateDoc(doc)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: object %d (%s): %v", dir, i+1, id, err))
		}
	}
	if len(docs) == 0 {
		problems = append(problems, fmt.Sprintf("%s: kustomize produced no object", dir))
	}
	return problems
}

func isKustomization(path string) bool {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if _, err := os.Stat(filepath.Join(path, n)); err == nil {
			return true
		}
	}
	return false
}

func check(paths []string) int {
	bad := 0
	for _, p := range paths {
		var problems []string
		st, err := os.Stat(p)
		switch {
		case err != nil:
			problems = []string{err.Error()}
		case st.IsDir() && isKustomization(p):
			problems = checkKustomization(p)
		case st.IsDir():
			problems = []string{p + ": a directory without a kustomization"}
		default:
			problems = checkFile(p)
		}
		for _, pr := range problems {
			fmt.Println("FAIL", pr)
		}
		if len(problems) > 0 {
			bad++
		} else {
			fmt.Println("ok  ", p)
		}
	}
	if bad > 0 {
		fmt.Printf("%d of %d failed\n", bad, len(paths))
		return 1
	}
	return 0
}

var expectLine = regexp.MustCompile(`(?m)^#\s*expect-error:\s*(.+?)\s*$`)

// negative: every file must fail validation with the text its "# expect-error:" line gives,
// so a sample that fails for some other reason (a typo in the sample) does not count.
func negative(paths []string) int {
	bad := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Println("FAIL", err)
			bad++
			continue
		}
		m := expectLine.FindSubmatch(b)
		if m == nil {
			fmt.Printf("FAIL %s: no '# expect-error:' line\n", p)
			bad++
			continue
		}
		want := string(m[1])
		problems := checkFile(p)
		switch {
		case len(problems) == 0:
			fmt.Printf("FAIL %s: accepted, but must be refused (%s)\n", p, want)
			bad++
		case !strings.Contains(strings.Join(problems, "\n"), want):
			fmt.Printf("FAIL %s: refused, but not for %q: %s\n", p, want, strings.Join(problems, "; "))
			bad++
		default:
			fmt.Printf("ok   %s refused: %s\n", p, problems[0])
		}
	}
	if bad > 0 {
		fmt.Printf("%d of %d negative samples did not fail as expected\n", bad, len(paths))
		return 1
	}
	return 0
}

// render writes the objects of a kustomization as one JSON array (input for opa test).
func render(dir, out string) int {
	docs, err := build(dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: kustomize: %v\n", dir, err)
		return 1
	}
	var objs []json.RawMessage
	for _, d := range docs {
		j, err := yaml.YAMLToJSON(d)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		objs = append(objs, j)
	}
	b, _ := json.MarshalIndent(objs, "", " ")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// rego writes the Rego of every ConstraintTemplate in the given files to OUTDIR/<kind>.rego.
func rego(paths []string, outdir string) int {
	if err := os.MkdirAll(outdir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	n := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for _, doc := range splitDocs(b) {
			var ct ConstraintTemplate
			if err := yaml.UnmarshalStrict(doc, &ct); err != nil || ct.Kind != "ConstraintTemplate" {
				continue
			}
			for i, t := range ct.Spec.Targets {
				name := fmt.Sprintf("%s/%s-%d.rego", outdir, strings.ToLower(ct.Spec.CRD.Spec.Names.Kind), i)
				if err := os.WriteFile(name, []byte(t.Rego), 0o644); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
				n++
			}
		}
	}
	if n == 0 {
		fmt.Fprintln(os.Stderr, "no ConstraintTemplate with Rego found")
		return 1
	}
	return 0
}

// opadata writes the input data for the Rego unit tests: the objects of each named
// kustomization and the parameters of each Constraint, as
// {"rendered": {NAME: [objects]}, "constraints": {KIND: parameters}}.
func opadata(out string, args []string) int {
	rendered := map[string][]json.RawMessage{}
	constraints := map[string]json.RawMessage{}
	files := false
	for _, a := range args {
		if a == "--" {
			files = true
			continue
		}
		if !files {
			name, dir, ok := strings.Cut(a, "=")
			if !ok {
				fmt.Fprintf(os.Stderr, "opadata: %q is not NAME=DIR\n", a)
				return 2
			}
			docs, err := build(dir)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: kustomize: %v\n", dir, err)
				return 1
			}
			for _, d := range docs {
				j, err := yaml.YAMLToJSONStrict(d)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
				rendered[name] = append(rendered[name], j)
			}
			continue
		}
		b, err := os.ReadFile(a)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for _, doc := range splitDocs(b) {
			if len(bytes.TrimSpace(stripComments(doc))) == 0 {
				continue
			}
			j, err := yaml.YAMLToJSONStrict(doc)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", a, err)
				return 1
			}
			var c Constraint
			if err := json.Unmarshal(j, &c); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", a, err)
				return 1
			}
			params := c.Spec.Parameters
			if len(params) == 0 {
				params = json.RawMessage("{}")
			}
			constraints[c.Kind] = params
		}
	}
	b, _ := json.MarshalIndent(map[string]any{"rendered": rendered, "constraints": constraints}, "", " ")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: k8svalidate check|negative PATH... | render DIR OUT.json | rego TEMPLATE.yaml... OUTDIR")
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "check":
		os.Exit(check(args))
	case "negative":
		os.Exit(negative(args))
	case "render":
		if len(args) != 2 {
			os.Exit(2)
		}
		os.Exit(render(args[0], args[1]))
	case "opadata":
		os.Exit(opadata(args[0], args[1:]))
	case "rego":
		os.Exit(rego(args[:len(args)-1], args[len(args)-1]))
	}
	fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
	os.Exit(2)
}
