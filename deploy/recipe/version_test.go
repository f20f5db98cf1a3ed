package recipe

import (
	"slices"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		tag     string
		want    SemVer
		wantErr bool
	}{
		{tag: "0.8.1+3.5.0", want: SemVer{Major: 0, Minor: 8, Patch: 1, Upstream: "3.5.0"}},
		{tag: "1.0.0", want: SemVer{Major: 1}},
		{tag: "2.3.4-rc.1+1.2", want: SemVer{Major: 2, Minor: 3, Patch: 4, Pre: []string{"rc", "1"}, Upstream: "1.2"}},
		{tag: "10.20.30+v2.0.0-beta", want: SemVer{Major: 10, Minor: 20, Patch: 30, Upstream: "v2.0.0-beta"}},
		{tag: "v1.0.3", want: SemVer{Major: 1, Patch: 3}},
		{tag: "v2.4.8", want: SemVer{Major: 2, Minor: 4, Patch: 8}},
		{tag: "1.0.0+1.0.5-social-amd64", want: SemVer{Major: 1, Upstream: "1.0.5-social-amd64"}},
		{tag: "vv1.0.0", wantErr: true},
		{tag: "V1.0.0", wantErr: true},
		{tag: "1.0", wantErr: true},
		{tag: "1.0.0.0", wantErr: true},
		{tag: "01.0.0", wantErr: true},
		{tag: "1.0.0+", wantErr: true},
		{tag: "1.0.0-", wantErr: true},
		{tag: "1.0.0-01", wantErr: true},
		{tag: "1.0.0-a..b", wantErr: true},
		{tag: "latest", wantErr: true},
		{tag: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			got, err := ParseVersion(tt.tag)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseVersion(%q) = %+v, want error", tt.tag, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseVersion(%q): %v", tt.tag, err)
			}
			if got.Major != tt.want.Major || got.Minor != tt.want.Minor || got.Patch != tt.want.Patch ||
				!slices.Equal(got.Pre, tt.want.Pre) || got.Upstream != tt.want.Upstream {
				t.Errorf("ParseVersion(%q) = %+v, want %+v", tt.tag, got, tt.want)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"0.7.0+3.3.1", "0.8.1+3.5.0", -1},
		{"0.10.0+1.0", "0.9.0+9.9", 1},
		{"1.0.0+3.5.3", "0.8.1+3.5.0", 1},
		{"1.0.0+a", "1.0.0+a", 0},
		// Equal precedence: upstream text breaks the tie so sorting is stable.
		{"1.0.0+1.0", "1.0.0+2.0", -1},
		{"1.0.0-rc.1", "1.0.0", -1},
		{"1.0.0-alpha", "1.0.0-alpha.1", -1},
		{"1.0.0-alpha.1", "1.0.0-alpha.beta", -1},
		{"1.0.0-alpha.beta", "1.0.0-beta", -1},
		{"1.0.0-beta.2", "1.0.0-beta.11", -1},
		{"1.0.0-beta.11", "1.0.0-rc.1", -1},
		{"latest", "0.0.1+1", -1},
		{"0.0.1+1", "latest", 1},
		// A "v" is spelling, not precedence: v1.0.3 is newer than v1.0.2 and than 0.9.0+1.
		{"v1.0.2", "v1.0.3", -1},
		{"0.9.0+1", "v1.0.0", -1},
		{"1.0.0+1.0.5-social-amd64", "2.0.0+1.0.5-social-amd64", -1},
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := CompareVersions(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestSortVersions(t *testing.T) {
	vs := []Version{{Tag: "1.0.0+3.5.3"}, {Tag: "0.10.0+3.0"}, {Tag: "0.7.0+3.3.1"}, {Tag: "0.9.0-rc.1+3.1"}, {Tag: "0.9.0+3.1"}}
	SortVersions(vs)
	var got []string
	for _, v := range vs {
		got = append(got, v.Tag)
	}
	want := []string{"0.7.0+3.3.1", "0.9.0-rc.1+3.1", "0.9.0+3.1", "0.10.0+3.0", "1.0.0+3.5.3"}
	if !slices.Equal(got, want) {
		t.Errorf("SortVersions = %v, want %v", got, want)
	}
}
