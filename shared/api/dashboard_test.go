package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// The dashboard endpoints refuse malformed requests with the contract's
// codes before any use case runs (operations.md §3).
func TestDashboardRequestErrors(t *testing.T) {
	s := &server{}
	cases := []struct {
		name, taskID, ctype, body string
		serve                     serveFunc
		status                    int
		code                      string
	}{
		{"cve: not an object", "1", "application/json", `[1]`, s.serveCVETransition, 400, "invalid_body"},
		{"cve: unknown status", "1", "application/json", `{"status": "done"}`, s.serveCVETransition, 400, "invalid_status"},
		{"cve: missing status", "1", "application/x-www-form-urlencoded", `notes=x`, s.serveCVETransition, 400, "invalid_status"},
		{"cve: status not a string", "1", "application/json", `{"status": 1}`, s.serveCVETransition, 400, "invalid_body"},
		{"review: not JSON", "1", "application/json", `{`, s.serveReviewDecision, 400, "invalid_body"},
		{"review: unknown decision", "1", "application/json", `{"decision": "rejected"}`, s.serveReviewDecision, 400, "invalid_decision"},
		{"review: bad task id", "x", "application/json", `{"decision": "approved"}`, s.serveReviewDecision, 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/api/dashboard/", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.ctype)
			r.SetPathValue("task_id", tc.taskID)
			err := tc.serve(httptest.NewRecorder(), r, nil)
			if tc.status == 404 {
				if apperr.KindOf(err) != apperr.NotFound {
					t.Fatalf("error %v, want not found", err)
				}
				return
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.Status != tc.status || ae.Code != tc.code {
				t.Fatalf("error %v, want %d %s", err, tc.status, tc.code)
			}
		})
	}
}

func TestTaskErrorMapping(t *testing.T) {
	cases := []struct {
		err  error
		code string
	}{
		{advisory.ErrTaskDecided, "invalid_transition"},
		{fmt.Errorf("x: %w", advisory.ErrIllegalTransition), "invalid_transition"},
		{&advisory.ValidationError{Problems: []advisory.Problem{{Path: "cve_id", Message: "bad"}}}, "validation_failed"},
	}
	for _, tc := range cases {
		var ae *Error
		if err := taskError(tc.err, "invalid_transition", "validation_failed"); !errors.As(err, &ae) || ae.Status != 400 || ae.Code != tc.code {
			t.Errorf("%v → %v, want 400 %s", tc.err, err, tc.code)
		}
	}
	var ae *Error
	if err := taskError(advisory.ErrTaskDecided, "review_failed", "review_failed"); !errors.As(err, &ae) || ae.Code != "review_failed" {
		t.Errorf("review conflict → %v", err)
	}
	for _, pass := range []error{advisory.ErrTaskNotFound, apperr.New(apperr.Forbidden, "no")} {
		if err := taskError(pass, "a", "b"); !errors.Is(err, pass) {
			t.Errorf("%v changed to %v", pass, err)
		}
	}
}
