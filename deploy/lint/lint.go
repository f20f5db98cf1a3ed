package lint

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/swarmrun/swarmrun/deploy/render"
)

// Severity says whether a finding fails the lint rung (Error) or is advice (Warning).
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Rule is one recipe rule.
type Rule struct {
	ID       string
	Severity Severity
	Summary  string
	check    func(in Input) []Finding
}

// Finding is one rule broken by one object.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// Object is the service, secret or image the finding is about.
	Object  string `json:"object"`
	Message string `json:"message"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s (%s) %s: %s", f.Rule, f.Severity, f.Object, f.Message)
}

// Input is what the rules look at: the head's render and the name of the service that
// carries the recipe's labels (abra's convention: "app").
type Input struct {
	Stack      *render.Stack
	AppService string
}

// Rules returns the rules in id order.
func Rules() []Rule {
	return []Rule{
		{ID: "R001", Severity: Error, Summary: "every image is pinned to a tag other than latest, or a digest", check: imagesPinned},
		{ID: "R002", Severity: Warning, Summary: "every long-running service declares a healthcheck", check: healthchecks},
		{ID: "R003", Severity: Error, Summary: "the app service exists and carries the coop-cloud.<stack>.version label", check: versionLabel},
		{ID: "R004", Severity: Error, Summary: "secrets and configs have versioned names (<name>_v<N>), since they are immutable", check: versionedObjects},
		{ID: "R005", Severity: Warning, Summary: "services declare an update failure action, so a bad upgrade does not stay half-rolled", check: failureAction},
	}
}

// Run applies every rule and returns the findings sorted by rule and object.
func Run(in Input) []Finding {
	if in.AppService == "" {
		in.AppService = "app"
	}
	var out []Finding
	for _, r := range Rules() {
		for _, f := range r.check(in) {
			f.Rule, f.Severity = r.ID, r.Severity
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].Object < out[j].Object
	})
	return out
}

// Passed reports whether the findings leave the lint rung passed: no Error finding.
func Passed(findings []Finding) bool {
	for _, f := range findings {
		if f.Severity == Error {
			return false
		}
	}
	return true
}

// services yields the stack's services by their compose name, in name order.
func services(in Input) []struct {
	name string
	spec swarm.ServiceSpec
} {
	var out []struct {
		name string
		spec swarm.ServiceSpec
	}
	for full, spec := range in.Stack.Services {
		out = append(out, struct {
			name string
			spec swarm.ServiceSpec
		}{strings.TrimPrefix(full, in.Stack.Name+"_"), spec})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func imagesPinned(in Input) []Finding {
	var out []Finding
	for _, s := range services(in) {
		img := in.Stack.Images[in.Stack.Name+"_"+s.name]
		if img == "" && s.spec.TaskTemplate.ContainerSpec != nil {
			img = s.spec.TaskTemplate.ContainerSpec.Image
		}
		if strings.Contains(img, "@sha256:") {
			continue
		}
		tag := ""
		if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
			tag = img[i+1:]
		}
		switch tag {
		case "":
			out = append(out, Finding{Object: s.name, Message: fmt.Sprintf("image %q has no tag: it means latest, which changes under you", img)})
		case "latest":
			out = append(out, Finding{Object: s.name, Message: fmt.Sprintf("image %q is pinned to latest, which changes under you", img)})
		}
	}
	return out
}

func isJob(spec swarm.ServiceSpec) bool {
	return spec.Mode.ReplicatedJob != nil || spec.Mode.GlobalJob != nil
}

func healthchecks(in Input) []Finding {
	var out []Finding
	for _, s := range services(in) {
		cs := s.spec.TaskTemplate.ContainerSpec
		if isJob(s.spec) || cs == nil {
			continue
		}
		hc := cs.Healthcheck
		if hc == nil || len(hc.Test) == 0 {
			out = append(out, Finding{Object: s.name, Message: "no healthcheck in the compose: convergence can only trust that the process stays up"})
			continue
		}
		if hc.Test[0] == "NONE" {
			out = append(out, Finding{Object: s.name, Message: "healthcheck disabled"})
		}
	}
	return out
}

func versionLabel(in Input) []Finding {
	spec, ok := in.Stack.Services[in.Stack.Name+"_"+in.AppService]
	if !ok {
		return []Finding{{Object: in.AppService, Message: fmt.Sprintf("no service %q: the recipe's labels have no home", in.AppService)}}
	}
	key := "coop-cloud." + in.Stack.Name + ".version"
	if spec.Labels[key] == "" {
		return []Finding{{Object: in.AppService, Message: fmt.Sprintf("deploy label %s is missing or empty (write it as coop-cloud.${STACK_NAME}.version)", key)}}
	}
	return nil
}

var versioned = regexp.MustCompile(`_v[0-9]+$`)

func versionedObjects(in Input) []Finding {
	var out []Finding
	check := func(kind string, names []string) {
		sort.Strings(names)
		for _, n := range names {
			if !versioned.MatchString(n) {
				out = append(out, Finding{Object: kind + " " + n, Message: "name has no _v<N> suffix: a content change cannot get a new name"})
			}
		}
	}
	var secrets, configs []string
	for n := range in.Stack.Secrets {
		secrets = append(secrets, n)
	}
	secrets = append(secrets, in.Stack.ExternalSecrets...)
	for n := range in.Stack.Configs {
		configs = append(configs, n)
	}
	check("secret", secrets)
	check("config", configs)
	return out
}

func failureAction(in Input) []Finding {
	var out []Finding
	for _, s := range services(in) {
		if isJob(s.spec) {
			continue
		}
		if s.spec.UpdateConfig == nil || s.spec.UpdateConfig.FailureAction == "" {
			out = append(out, Finding{Object: s.name, Message: "no update_config.failure_action: the engine's default pauses a failed update"})
		}
	}
	return out
}
