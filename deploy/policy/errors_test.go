package policy

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestRulesAreDocumented: every rule ID is in Rules (sorted), in the package documentation's
// table and in the README draft, so that an operator can look up any ID an error names.
func TestRulesAreDocumented(t *testing.T) {
	rules := Rules()
	if !slices.IsSorted(rules) || len(slices.Compact(slices.Clone(rules))) != len(rules) {
		t.Errorf("Rules() = %v, want sorted and without duplicates", rules)
	}
	for _, file := range []string{"doc.go", "../../README.md"} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, rule := range rules {
			if !strings.Contains(string(raw), rule) {
				t.Errorf("%s does not document rule %s", file, rule)
			}
		}
	}
}

func TestErrorRules(t *testing.T) {
	err := &Error{Stack: "pol", Deploy: Deploy{Role: RoleHead}, Violations: []Violation{
		{Service: "app", Field: "cap_add", Subject: "CAP_SYS_ADMIN", Rule: RuleCapAdd, Message: "m"},
		{Service: "app", Field: "volumes[0]", Subject: "bind /", Rule: RuleDockerSocket, Message: "m"},
		{Service: "app", Field: "volumes[1]", Subject: "bind /run", Rule: RuleDockerSocket, Message: "m"},
	}}
	if got, want := err.Rules(), []string{RuleCapAdd, RuleDockerSocket}; !slices.Equal(got, want) {
		t.Errorf("Rules() = %v, want %v", got, want)
	}
}
