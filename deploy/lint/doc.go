// Package lint checks a recipe against abra's recipe rules, under abra's references and
// levels (R001 to R015: abra's pkg/lint LintRules), and a few of swarmrun's own (SR001…),
// and reports every finding. A failed critical rule fails the lint: the top rung of a run's
// level (never a gate: it caps the level, it does not stop the run) and the exit status of
// `swarmrun lint`.
//
// Only R001's wording and the order of abra's fifteen rule functions are verified against
// abra's published documentation; the other rules' wording and checks follow abra's rule
// names but are not verified against its source, and are marked Unverified; each check says
// what it relies on. Where abra asks the network (R013, its repository; R006, its catalogue),
// swarmrun lints offline: R013 is skipped, R006 asks the source's tags.
//
// lint judges the recipe as it writes itself (its own compose files under its own env, no
// deploy's overlays, labels or image overrides), its checkout's files (README.md,
// .env.sample, abra.sh, read inside the checkout only) and its tags. It talks to no engine
// and no network.
package lint
