package controller

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsTerminal(t *testing.T) {
	base := errors.New("invalid spec")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil},
		{name: "plain", err: base},
		{name: "terminal", err: Terminal(base), want: true},
		{name: "wrapped terminal", err: fmt.Errorf("reconcile: %w", Terminal(base)), want: true},
		{name: "joined terminal", err: errors.Join(errors.New("x"), Terminal(base)), want: true},
		{name: "foreign terminal", err: fmt.Errorf("plan: %w", ownTerminal{permanent: true}), want: true},
		{name: "foreign non-terminal", err: ownTerminal{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsTerminal(tt.err); got != tt.want {
				t.Errorf("IsTerminal(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestTerminalKeepsCause(t *testing.T) {
	base := errors.New("invalid spec")
	err := Terminal(base)
	if !errors.Is(err, base) {
		t.Error("errors.Is does not reach the cause")
	}
	if err.Error() != "invalid spec" {
		t.Errorf("message = %q, want the cause's", err.Error())
	}
	var te *TerminalError
	if !errors.As(fmt.Errorf("x: %w", err), &te) {
		t.Error("errors.As does not find *TerminalError")
	}
	if Terminal(nil) != nil {
		t.Error("Terminal(nil) is not nil")
	}
}

func TestRequestString(t *testing.T) {
	if got := (Request{Kind: "TestRun", Name: "disc-pr4"}).String(); got != "TestRun/disc-pr4" {
		t.Errorf("String() = %q", got)
	}
}
