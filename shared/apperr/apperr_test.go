package apperr_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

func TestKindOf(t *testing.T) {
	sentinel := apperr.New(apperr.Conflict, "illegal transition")
	tests := []struct {
		name string
		err  error
		want apperr.Kind
	}{
		{"nil", nil, 0},
		{"plain", io.EOF, 0},
		{"kind itself", apperr.NotFound, apperr.NotFound},
		{"sentinel", sentinel, apperr.Conflict},
		{"wrapped sentinel", fmt.Errorf("publish x: %w", sentinel), apperr.Conflict},
		{"wrap", apperr.Wrap(apperr.Invalid, "bad", io.EOF), apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := apperr.KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIs(t *testing.T) {
	sentinel := apperr.New(apperr.Conflict, "illegal transition")
	err := fmt.Errorf("publish x: %w", sentinel)
	if !errors.Is(err, sentinel) || !errors.Is(err, apperr.Conflict) || errors.Is(err, apperr.Invalid) {
		t.Errorf("errors.Is mismatch for %v", err)
	}
	w := apperr.Wrap(apperr.NotFound, "load", io.EOF)
	if !errors.Is(w, io.EOF) || !errors.Is(w, apperr.NotFound) {
		t.Errorf("errors.Is mismatch for %v", w)
	}
	if got, want := w.Error(), "load: EOF"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if apperr.Wrap(apperr.Invalid, "x", nil) != nil {
		t.Error("Wrap(nil) != nil")
	}
}
