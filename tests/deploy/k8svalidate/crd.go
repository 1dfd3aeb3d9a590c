package main

// Types for the custom resources this kit ships, with the fields of their published v1 APIs that
// a strict decoder needs to know. Anything not listed here is refused as an unknown field, so a
// field we have not typed (a less common ServiceMonitor option, say) must be added here first.

import (
	"encoding/json"
	"fmt"
	"regexp"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ServiceMonitor is monitoring.coreos.com/v1 ServiceMonitor (prometheus-operator).
type ServiceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ServiceMonitorSpec `json:"spec"`
}

type ServiceMonitorSpec struct {
	JobLabel          string               `json:"jobLabel,omitempty"`
	TargetLabels      []string             `json:"targetLabels,omitempty"`
	PodTargetLabels   []string             `json:"podTargetLabels,omitempty"`
	Endpoints         []SMEndpoint         `json:"endpoints"`
	Selector          metav1.LabelSelector `json:"selector"`
	NamespaceSelector *struct {
		Any        bool     `json:"any,omitempty"`
		MatchNames []string `json:"matchNames,omitempty"`
	} `json:"namespaceSelector,omitempty"`
	SampleLimit *uint64 `json:"sampleLimit,omitempty"`
	TargetLimit *uint64 `json:"targetLimit,omitempty"`
}

type SMEndpoint struct {
	Port              string              `json:"port,omitempty"`
	Path              string              `json:"path,omitempty"`
	Scheme            string              `json:"scheme,omitempty"`
	Params            map[string][]string `json:"params,omitempty"`
	Interval          Duration            `json:"interval,omitempty"`
	ScrapeTimeout     Duration            `json:"scrapeTimeout,omitempty"`
	HonorLabels       bool                `json:"honorLabels,omitempty"`
	HonorTimestamps   *bool               `json:"honorTimestamps,omitempty"`
	TLSConfig         json.RawMessage     `json:"tlsConfig,omitempty"`
	MetricRelabelings []RelabelConfig     `json:"metricRelabelings,omitempty"`
	Relabelings       []RelabelConfig     `json:"relabelings,omitempty"`
	FollowRedirects   *bool               `json:"followRedirects,omitempty"`
	EnableHTTP2       *bool               `json:"enableHttp2,omitempty"`
	FilterRunning     *bool               `json:"filterRunning,omitempty"`
}

type RelabelConfig struct {
	SourceLabels []string `json:"sourceLabels,omitempty"`
	Separator    *string  `json:"separator,omitempty"`
	TargetLabel  string   `json:"targetLabel,omitempty"`
	Regex        string   `json:"regex,omitempty"`
	Modulus      uint64   `json:"modulus,omitempty"`
	Replacement  *string  `json:"replacement,omitempty"`
	Action       string   `json:"action,omitempty"`
}

// Duration is the operator's Duration: a Prometheus duration string such as 5s or 1m30s.
type Duration string

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"5s\", got %s", b)
	}
	if !durationRE.MatchString(s) {
		return fmt.Errorf("duration %q is not a Prometheus duration such as 5s or 1m30s", s)
	}
	*d = Duration(s)
	return nil
}

func (s *ServiceMonitor) check() error {
	if len(s.Spec.Endpoints) == 0 {
		return fmt.Errorf("spec.endpoints: at least one endpoint is required")
	}
	for i, e := range s.Spec.Endpoints {
		if e.Port == "" {
			return fmt.Errorf("spec.endpoints[%d].port: required (a named Service port)", i)
		}
	}
	if len(s.Spec.Selector.MatchLabels) == 0 && len(s.Spec.Selector.MatchExpressions) == 0 {
		return fmt.Errorf("spec.selector: empty selector would match every Service")
	}
	return nil
}

// ConstraintTemplate is templates.gatekeeper.sh/v1 ConstraintTemplate (Gatekeeper 3.15).
type ConstraintTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		CRD struct {
			Spec struct {
				Names struct {
					Kind       string   `json:"kind"`
					ShortNames []string `json:"shortNames,omitempty"`
				} `json:"names"`
				Validation *struct {
					OpenAPIV3Schema json.RawMessage `json:"openAPIV3Schema,omitempty"`
					LegacySchema    *bool           `json:"legacySchema,omitempty"`
				} `json:"validation,omitempty"`
			} `json:"spec"`
		} `json:"crd"`
		Targets []struct {
			Target string   `json:"target"`
			Rego   string   `json:"rego,omitempty"`
			Libs   []string `json:"libs,omitempty"`
		} `json:"targets"`
	} `json:"spec"`
}

func (c *ConstraintTemplate) check() error {
	kind := c.Spec.CRD.Spec.Names.Kind
	if kind == "" {
		return fmt.Errorf("spec.crd.spec.names.kind is required")
	}
	// Gatekeeper requires the template's name to be the lower-cased kind.
	if want := toLower(kind); c.Name != want {
		return fmt.Errorf("metadata.name must be %q (the lower-cased spec.crd.spec.names.kind)", want)
	}
	if len(c.Spec.Targets) != 1 || c.Spec.Targets[0].Target != "admission.k8s.gatekeeper.sh" || c.Spec.Targets[0].Rego == "" {
		return fmt.Errorf("spec.targets: exactly one target admission.k8s.gatekeeper.sh with rego is required")
	}
	return nil
}

// Constraint is any constraints.gatekeeper.sh/v1beta1 kind.
type Constraint struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		EnforcementAction string `json:"enforcementAction,omitempty"`
		Match             *struct {
			Kinds []struct {
				APIGroups []string `json:"apiGroups"`
				Kinds     []string `json:"kinds"`
			} `json:"kinds,omitempty"`
			Scope              string                `json:"scope,omitempty"`
			Namespaces         []string              `json:"namespaces,omitempty"`
			ExcludedNamespaces []string              `json:"excludedNamespaces,omitempty"`
			LabelSelector      *metav1.LabelSelector `json:"labelSelector,omitempty"`
			NamespaceSelector  *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
			Name               string                `json:"name,omitempty"`
			Source             string                `json:"source,omitempty"`
		} `json:"match,omitempty"`
		Parameters json.RawMessage `json:"parameters,omitempty"`
	} `json:"spec"`
}

func (c *Constraint) check() error {
	switch c.Spec.EnforcementAction {
	case "", "deny", "dryrun", "warn":
		return nil
	}
	return fmt.Errorf("spec.enforcementAction must be deny, dryrun or warn, got %q", c.Spec.EnforcementAction)
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

var durationRE = regexp.MustCompile(`^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$`)
