package v1alpha1

import (
	"encoding/json"
	"time"
)

// Recipe is a recipe repository that TestRuns deploy: where it lives, the environment and
// overlays for every deploy, the base-only repairs for one published version, whether it is
// enrolled as a warm canonical, and its checks.
type Recipe struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Spec       RecipeSpec   `json:"spec"`
	Status     RecipeStatus `json:"status,omitzero"`
}

// RecipeSpec is the desired state of a Recipe.
type RecipeSpec struct {
	Source RecipeSource `json:"source"`
	// Env is the app environment over .env.sample (COMPOSE_FILE, DOMAIN, ...).
	Env map[string]string `json:"env,omitempty"`
	// Overlays are environmental compose fragments (inline YAML objects) applied to every
	// deploy of this recipe, base and head.
	Overlays []json.RawMessage `json:"overlays,omitempty"`
	// Images override the images of the recipe's services in every deploy of it.
	Images []ImageOverride `json:"images,omitempty"`
	// Previous holds base-only repairs, applied only when the base is exactly that version.
	Previous *Previous `json:"previous,omitempty"`
	// Warm enrols the recipe as a warm canonical.
	Warm bool `json:"warm,omitempty"`
	// ExpectedNotApplicable maps a stage to the reason it does not apply to this recipe.
	ExpectedNotApplicable map[Stage]string `json:"expectedNotApplicable,omitempty"`
	Timeouts              RecipeTimeouts   `json:"timeouts,omitzero"`
	Checks                Checks           `json:"checks,omitzero"`
}

// RecipeSource says where the recipe's git repository is.
type RecipeSource struct {
	// URL is any git URL or a local path.
	URL string `json:"url"`
	// TargetBranch is the branch a change merges onto; empty means main, falling back to master.
	TargetBranch string `json:"targetBranch,omitempty"`
}

// Previous is a base-only repair for one published version.
type Previous struct {
	Version  string            `json:"version"`
	Overlays []json.RawMessage `json:"overlays,omitempty"`
	Env      map[string]string `json:"env,omitempty"`
}

// RecipeTimeouts bounds the recipe's deploys.
type RecipeTimeouts struct {
	// Deploy bounds the convergence of one deploy.
	Deploy *Duration `json:"deploy,omitempty"`
}

// DefaultDeployTimeout bounds one deploy's convergence when the Recipe does not say.
const DefaultDeployTimeout = 20 * time.Minute

// DeployTimeout returns the convergence bound of one deploy, defaulted.
func (s *RecipeSpec) DeployTimeout() time.Duration {
	if s.Timeouts.Deploy == nil || s.Timeouts.Deploy.Duration <= 0 {
		return DefaultDeployTimeout
	}
	return s.Timeouts.Deploy.Duration
}

// NotApplicable returns the reason stage is declared not applicable, and whether it is.
func (s *RecipeSpec) NotApplicable(stage Stage) (string, bool) {
	r, ok := s.ExpectedNotApplicable[stage]
	return r, ok
}

// Default fills the defaults of a Recipe's spec.
func (r *Recipe) Default() {
	r.APIVersion, r.Kind = APIVersion, KindRecipe
	if r.Spec.Timeouts.Deploy == nil {
		r.Spec.Timeouts.Deploy = &Duration{Duration: DefaultDeployTimeout}
	}
}

// RecipeStatus is the observed state of a Recipe.
type RecipeStatus struct {
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Canonical is the warm-canonical record: the last green, promoted version.
	Canonical *Canonical `json:"canonical,omitempty"`
	// WarmStack is the long-lived warm-<recipe> stack kept at the canonical version.
	WarmStack  *WarmStack  `json:"warmStack,omitempty"`
	Conditions []Condition `json:"conditions,omitempty"`
}

// Canonical is the record of a promoted, green version of a recipe.
type Canonical struct {
	Version    string `json:"version"`
	Commit     string `json:"commit"`
	Status     string `json:"status"`
	Run        string `json:"run"`
	PromotedAt Time   `json:"promotedAt"`
}

// WarmStack is the state of a recipe's warm stack.
type WarmStack struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Commit  string `json:"commit,omitempty"`
	Ready   bool   `json:"ready"`
	// Deploy records the last deploy of the stack: what it applied and how its convergence
	// went, look by look.
	Deploy *DeployRecord `json:"deploy,omitempty"`
}

// RecipeList is a list of Recipes.
type RecipeList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata"`
	Items    []Recipe `json:"items"`
}
