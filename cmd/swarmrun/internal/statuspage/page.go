package statuspage

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/swarmrun/swarmrun/api/server"
	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
	"github.com/swarmrun/swarmrun/cmd/swarmrun/internal/cli"
	"github.com/swarmrun/swarmrun/spec"
)

// DefaultMaxRuns is how many TestRuns the page lists, newest first.
const DefaultMaxRuns = 200

// Reader is the part of the store the page reads; *store.Store has it.
type Reader interface {
	Get(ctx context.Context, name string, into v1alpha1.Object) error
	List(ctx context.Context, kind string) ([]v1alpha1.Object, string, error)
}

// Options configure a Page.
type Options struct {
	// Store is read on every request. Required.
	Store Reader
	// DataDir holds the runs' result files (<DataDir>/runs/<testrun>/). Required.
	DataDir string
	// GC, when set, is where serve's garbage collection keeps its recent removals.
	GC *GCLog
	// Now is the clock of ages; default time.Now.
	Now func() time.Time
	// MaxRuns bounds the runs listed; default DefaultMaxRuns.
	MaxRuns int
}

// Page serves the status page, the result files and the badges (see the package doc).
type Page struct {
	o    Options
	tmpl *template.Template
}

//go:embed page.html.tmpl
var pageTemplate string

// New returns the page over o.
func New(o Options) (*Page, error) {
	if o.Store == nil || o.DataDir == "" {
		return nil, errors.New("status page: store and data dir are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxRuns <= 0 {
		o.MaxRuns = DefaultMaxRuns
	}
	tmpl, err := template.New("page").Funcs(template.FuncMap{"printable": cli.Printable}).Parse(pageTemplate)
	if err != nil {
		return nil, fmt.Errorf("status page: %w", err)
	}
	return &Page{o: o, tmpl: tmpl}, nil
}

// Mounts returns the page's routes, for server.Options.Mounts: / (the page),
// /badge/<recipe>.svg and /runs/<testrun>/<file>. public makes them readable without the
// token on a listener that requires one.
func (p *Page) Mounts(public bool) []server.Mount {
	return []server.Mount{
		{Pattern: "GET /{$}", Handler: http.HandlerFunc(p.index), Public: public},
		{Pattern: "GET /badge/{file}", Handler: http.HandlerFunc(p.badge), Public: public},
		{Pattern: "GET /runs/{name}/{file}", Handler: http.HandlerFunc(p.file), Public: public},
	}
}

// pageCSP allows the page its inline style and its own badge images, and nothing else: no
// script, no form, no frame.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (p *Page) index(w http.ResponseWriter, r *http.Request) {
	v, err := p.view(r.Context())
	if err != nil {
		unavailable(w, r, err)
		return
	}
	var b bytes.Buffer
	if err := p.tmpl.Execute(&b, v); err != nil {
		unavailable(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	w.Write(b.Bytes())
}

// unavailable answers 500 without detail (the page may be public) and logs why.
func unavailable(w http.ResponseWriter, r *http.Request, err error) {
	logr.FromContextOrDiscard(r.Context()).Error(err, "status page not served", "path", r.URL.Path)
	http.Error(w, "status page unavailable", http.StatusInternalServerError)
}

// view is what the template shows.
type view struct {
	Now       time.Time
	Runs      []runView
	MoreRuns  int
	Recipes   []recipeView
	GC        []gcView
	GCEnabled bool
	MaxLevel  int
}

type runView struct {
	Name, Recipe, Head, Base string
	// State is running, passed, failed or deleting; LevelClass the badge's CSS class.
	State, Level, LevelClass string
	Reason, Message          string
	Age, Took                string
	Conditions               []conditionView
	Files                    []fileLink
}

type conditionView struct {
	Type, Status, Reason, Message, Age string
}

type fileLink struct{ Name, URL string }

type recipeView struct {
	Name, Source, TargetBranch string
	Warm                       bool
	Canonical                  string // "0.2.0+2 at 0123abcd", or empty
	CanonicalRun, PromotedAge  string
	WarmStack                  string // "warm-x 0.2.0+2 ready", or empty
	Badge                      string // the badge's URL
	Last                       string // the badge's message
	LevelClass                 string
}

type gcView struct {
	Age, Kind, Name, Why, Error string
}

func (p *Page) view(ctx context.Context) (*view, error) {
	now := p.o.Now()
	runs, err := listRuns(ctx, p.o.Store)
	if err != nil {
		return nil, err
	}
	objs, _, err := p.o.Store.List(ctx, v1alpha1.KindRecipe)
	if err != nil {
		return nil, fmt.Errorf("list recipes: %w", err)
	}
	v := &view{Now: now, MaxLevel: v1alpha1.MaxLevel, GCEnabled: p.o.GC != nil}
	for _, obj := range objs {
		if rc, ok := obj.(*v1alpha1.Recipe); ok {
			v.Recipes = append(v.Recipes, recipeRow(rc, runs, now))
		}
	}
	slices.SortFunc(v.Recipes, func(a, b recipeView) int { return strings.Compare(a.Name, b.Name) })

	slices.SortFunc(runs, func(a, b *v1alpha1.TestRun) int {
		return cmp.Or(b.CreationTimestamp.Compare(a.CreationTimestamp), strings.Compare(a.Name, b.Name))
	})
	if len(runs) > p.o.MaxRuns {
		v.MoreRuns = len(runs) - p.o.MaxRuns
		runs = runs[:p.o.MaxRuns]
	}
	files := p.files()
	defer files.close()
	for _, tr := range runs {
		v.Runs = append(v.Runs, runRow(tr, files, now))
	}
	for _, e := range p.o.GC.Entries() {
		v.GC = append(v.GC, gcView{Age: cli.Age(now, e.At), Kind: e.Kind, Name: e.Name, Why: e.Why, Error: e.Error})
	}
	return v, nil
}

func listRuns(ctx context.Context, st Reader) ([]*v1alpha1.TestRun, error) {
	objs, _, err := st.List(ctx, v1alpha1.KindTestRun)
	if err != nil {
		return nil, fmt.Errorf("list testruns: %w", err)
	}
	runs := make([]*v1alpha1.TestRun, 0, len(objs))
	for _, obj := range objs {
		if tr, ok := obj.(*v1alpha1.TestRun); ok {
			runs = append(runs, tr)
		}
	}
	return runs, nil
}

func runRow(tr *v1alpha1.TestRun, files *runFiles, now time.Time) runView {
	v := runView{Name: tr.Name, Recipe: tr.Spec.Recipe, Head: headOf(tr), Base: baseOf(tr),
		Age: cli.Age(now, tr.CreationTimestamp), State: "running", Level: "running", LevelClass: "running"}
	if c := apimeta.FindStatusCondition(tr.Status.Conditions, v1alpha1.ConditionSucceeded); c != nil {
		v.Reason, v.Message = c.Reason, c.Message
		if c.Status != v1alpha1.ConditionUnknown {
			level := min(max(tr.Status.Level, 0), v1alpha1.MaxLevel)
			v.Level, v.LevelClass = fmt.Sprintf("level %d/%d", level, v1alpha1.MaxLevel), fmt.Sprintf("level-%d", level)
			v.State = "failed"
			if c.Status == v1alpha1.ConditionTrue {
				v.State = "passed"
			}
		}
	}
	if tr.DeletionTimestamp != nil {
		v.State = "deleting"
	}
	if s, c := tr.Status.StartedAt, tr.Status.CompletedAt; s != nil && c != nil {
		v.Took = c.Sub(s.Time).String()
	}
	for _, c := range tr.Status.Conditions {
		v.Conditions = append(v.Conditions, conditionView{Type: c.Type, Status: string(c.Status), Reason: c.Reason,
			Message: c.Message, Age: cli.Age(now, c.LastTransitionTime.Time)})
	}
	v.Files = files.of(tr.Name)
	return v
}

func headOf(tr *v1alpha1.TestRun) string {
	if h := tr.Status.Head; h != nil && h.Commit != "" {
		return h.Ref + " at " + cli.ShortCommit(h.Commit)
	}
	if tr.Spec.Head == "" {
		return "target branch tip"
	}
	return tr.Spec.Head
}

func baseOf(tr *v1alpha1.TestRun) string {
	switch b := tr.Status.Base; {
	case b == nil && tr.Spec.UpgradeBase != "":
		return tr.Spec.UpgradeBase
	case b == nil:
		return "-"
	case b.Kind == v1alpha1.BaseNone:
		return "none"
	case b.Version != "":
		return b.Version
	default:
		return cli.ShortCommit(b.Commit)
	}
}

func recipeRow(rc *v1alpha1.Recipe, runs []*v1alpha1.TestRun, now time.Time) recipeView {
	v := recipeView{Name: rc.Name, Source: withoutUserInfo(rc.Spec.Source.URL), TargetBranch: rc.Spec.Source.TargetBranch,
		Warm: rc.Spec.Warm, Badge: "/badge/" + url.PathEscape(rc.Name) + ".svg"}
	if v.TargetBranch == "" {
		v.TargetBranch = "main (or master)"
	}
	if c := rc.Status.Canonical; c != nil {
		v.Canonical = c.Version + " at " + cli.ShortCommit(c.Commit)
		v.CanonicalRun = c.Run
		if !c.PromotedAt.IsZero() {
			v.PromotedAge = cli.Age(now, c.PromotedAt.Time)
		}
	}
	if ws := rc.Status.WarmStack; ws != nil {
		state := "not ready"
		if ws.Ready {
			state = "ready"
		}
		v.WarmStack = strings.Join(slices.DeleteFunc([]string{ws.Name, ws.Version, state}, func(s string) bool { return s == "" }), " ")
	}
	last := TargetBranchRun(rc, runs)
	v.Last, _ = badgeMessage(last)
	v.LevelClass = "none"
	if last != nil {
		v.LevelClass = fmt.Sprintf("level-%d", min(max(last.Status.Level, 0), v1alpha1.MaxLevel))
	}
	return v
}

// withoutUserInfo drops the user and password of a URL: a source URL may carry a token.
func withoutUserInfo(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}

// badge serves /badge/<recipe>.svg.
func (p *Page) badge(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	if !ok || !spec.ValidName(name) {
		w.WriteHeader(http.StatusNotFound)
		w.Write(badgeSVG(badgeLabel, "not found", greyColour))
		return
	}
	rc := &v1alpha1.Recipe{}
	err := p.o.Store.Get(r.Context(), name, rc)
	if errors.Is(err, store.ErrNotFound) {
		w.WriteHeader(http.StatusNotFound)
		w.Write(badgeSVG(badgeLabel, "unknown recipe", greyColour))
		return
	}
	var runs []*v1alpha1.TestRun
	if err == nil {
		runs, err = listRuns(r.Context(), p.o.Store)
	}
	if err != nil {
		logr.FromContextOrDiscard(r.Context()).Error(err, "badge not served", "recipe", name)
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(badgeSVG(badgeLabel, "unavailable", greyColour))
		return
	}
	msg, colour := badgeMessage(TargetBranchRun(rc, runs))
	w.Write(badgeSVG(badgeLabel, msg, colour))
}
