package reconcile

import "github.com/swarmrun/swarmrun/api/v1alpha1"

// rungs is the level ladder, bottom first. A rung of several tiers needs all of them.
func rungs() [][]string {
	return [][]string{
		{string(v1alpha1.StageInstall)},
		{string(v1alpha1.StageUpgrade)},
		{string(v1alpha1.StageBackup), string(v1alpha1.StageRestore)},
		{string(v1alpha1.StageCustom)},
		{v1alpha1.TierLint},
	}
}

// Level counts the rungs, from the bottom, whose tiers all passed or were declared not
// applicable; the first other rung stops the climb. A skipped or missing tier counts as not
// passed. Lint is the top rung: it never fails a run, but a run with failing lint stops one
// short of v1alpha1.MaxLevel.
func Level(tiers map[string]v1alpha1.TierResult) int {
	level := 0
	for _, rung := range rungs() {
		for _, tier := range rung {
			switch tiers[tier].Result {
			case v1alpha1.ResultPassed, v1alpha1.ResultNotApplicable:
			default:
				return level
			}
		}
		level++
	}
	return level
}
