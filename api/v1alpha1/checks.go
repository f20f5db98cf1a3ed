package v1alpha1

// Checks are a recipe's checks per tier. Built-in checks (convergence, head images, service
// set, labels) always run besides these.
type Checks struct {
	Install []Check       `json:"install,omitempty"`
	Upgrade UpgradeChecks `json:"upgrade,omitzero"`
	Backup  []Check       `json:"backup,omitempty"`
	Restore []Check       `json:"restore,omitempty"`
	Custom  []Check       `json:"custom,omitempty"`
}

// UpgradeChecks run around the upgrade: Before on the converged base, After on the upgraded
// head (e.g. write data before, read it back after).
type UpgradeChecks struct {
	Before []Check `json:"before,omitempty"`
	After  []Check `json:"after,omitempty"`
}

// RecipeTestsFile is where a recipe repository ships its own checks, versioned with it.
const RecipeTestsFile = "tests/swarmrun.yaml"

// KindRecipeTests is the kind of RecipeTestsFile.
const KindRecipeTests = "RecipeTests"

// RecipeTests is the content of RecipeTestsFile: the checks a recipe ships, per tier, in
// the form of a Recipe's spec.checks. A run runs the head's own checks against the head
// and the base's install checks against the base, besides the Recipe's.
type RecipeTests struct {
	TypeMeta `json:",inline"`
	Checks   Checks `json:"checks"`
}

// Check is one step of a tier: exactly one of HTTP, Exec or Job is set.
type Check struct {
	Name    string     `json:"name"`
	HTTP    *HTTPCheck `json:"http,omitempty"`
	Exec    *ExecCheck `json:"exec,omitempty"`
	Job     *JobCheck  `json:"job,omitempty"`
	Timeout *Duration  `json:"timeout,omitempty"`
}

// HTTPCheck requests a path of a service from inside the stack's network, by a one-shot swarm
// task, and expects a status and optionally a substring of the body.
type HTTPCheck struct {
	Service      string `json:"service"`
	Port         int    `json:"port"`
	Path         string `json:"path,omitempty"`
	Method       string `json:"method,omitempty"`
	Body         string `json:"body,omitempty"`
	ExpectStatus int    `json:"expectStatus,omitempty"`
	Contains     string `json:"contains,omitempty"`
}

// ExecCheck runs a command in a running task container of a service; exit 0 passes.
type ExecCheck struct {
	Service string   `json:"service"`
	Command []string `json:"command"`
}

// JobCheck runs a one-shot swarm task on the stack's networks; exit 0 passes.
type JobCheck struct {
	Image   string            `json:"image"`
	Command []string          `json:"command,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
}
