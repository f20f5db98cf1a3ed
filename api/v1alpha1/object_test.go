package v1alpha1

import "testing"

func TestKindFor(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"recipes", KindRecipe, false},
		{"recipe", KindRecipe, false},
		{"Recipe", KindRecipe, false},
		{"testruns", KindTestRun, false},
		{"testrun", KindTestRun, false},
		{"TestRun", KindTestRun, false},
		{"tr", KindTestRun, false},
		{"TR", KindTestRun, false},
		{"repositories", KindRepository, false},
		{"repository", KindRepository, false},
		{"repo", KindRepository, false},
		{"Repository", KindRepository, false},
		{"pods", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := KindFor(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("KindFor(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestResourceForInvertsKindFor(t *testing.T) {
	for _, kind := range Kinds() {
		res, err := ResourceFor(kind)
		if err != nil {
			t.Fatalf("ResourceFor(%q): %v", kind, err)
		}
		back, err := KindFor(res)
		if err != nil || back != kind {
			t.Errorf("KindFor(ResourceFor(%q)) = %q, %v", kind, back, err)
		}
	}
	if _, err := ResourceFor("recipe"); err == nil {
		t.Error("ResourceFor accepted a resource name instead of a kind")
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		kind    string
		wantErr bool
	}{
		{KindRecipe, false},
		{KindTestRun, false},
		{KindRepository, false},
		{"testrun", true},
		{"Pod", true},
	}
	for _, tt := range tests {
		obj, err := New(tt.kind)
		if (err != nil) != tt.wantErr {
			t.Fatalf("New(%q) error = %v, want error %v", tt.kind, err, tt.wantErr)
		}
		if err != nil {
			continue
		}
		tm := obj.GetTypeMeta()
		if tm.Kind != tt.kind || tm.APIVersion != APIVersion {
			t.Errorf("New(%q) has type meta %+v", tt.kind, *tm)
		}
	}
}

func TestKindsIsACopy(t *testing.T) {
	Kinds()[0] = "Changed"
	if Kinds()[0] != KindRecipe {
		t.Error("changing the result of Kinds changed the package's kinds")
	}
}
