package recipe

import "strconv"

// labelKey is a coop-cloud label key of a stack's app service, spelled as abra spells it.
func labelKey(stack, what string) string { return "coop-cloud." + stack + "." + what }

// LabelVersion is the key of the recipe version label of stack's app service.
func LabelVersion(stack string) string { return labelKey(stack, "version") }

// LabelRecipe is the key of the recipe name label of stack's app service.
func LabelRecipe(stack string) string { return labelKey(stack, "recipe") }

// LabelChaos is the key of the chaos flag label ("true"/"false") of stack's app service.
func LabelChaos(stack string) string { return labelKey(stack, "chaos") }

// LabelChaosVersion is the key of the chaos-version label of stack's app service.
func LabelChaosVersion(stack string) string { return labelKey(stack, "chaos-version") }

// AppDeploy describes one deploy of a recipe for its app service's labels.
type AppDeploy struct {
	Stack  string
	Recipe string
	// Version is the release being deployed; ignored on a chaos deploy.
	Version string
	// Commit is the full commit deployed; Dirty says whether the working tree had
	// uncommitted changes.
	Commit string
	Dirty  bool
	// Chaos marks a deploy of an unreleased checkout rather than of a release tag.
	Chaos bool
}

// AppLabels returns the coop-cloud deploy labels of the app service. A release deploy sets
// the version label; a chaos deploy leaves the version label to the compose file's own
// value and sets chaos-version to the commit's first 8 hex digits (plus "+U" when dirty).
func AppLabels(d AppDeploy) map[string]string {
	l := map[string]string{
		LabelRecipe(d.Stack): d.Recipe,
		LabelChaos(d.Stack):  strconv.FormatBool(d.Chaos),
	}
	if d.Chaos {
		l[LabelChaosVersion(d.Stack)] = ChaosVersion(d.Commit, d.Dirty)
	} else {
		l[LabelVersion(d.Stack)] = d.Version
	}
	return l
}
