package publication

import (
	"strings"
	"testing"
	"time"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		s                       Status
		valid, active, runnable bool
	}{
		{StatusQueued, true, true, true},
		{StatusRunning, true, true, false},
		{StatusSucceeded, true, false, false},
		{StatusFailed, true, false, true},
		{"cancelled", false, false, false},
	} {
		if tc.s.Valid() != tc.valid || tc.s.Active() != tc.active || tc.s.Runnable() != tc.runnable {
			t.Errorf("%q: valid %v active %v runnable %v", tc.s, tc.s.Valid(), tc.s.Active(), tc.s.Runnable())
		}
	}
	for _, k := range []Kind{KindOSV, KindCSAF, KindCVE} {
		if !k.Valid() {
			t.Errorf("%q not valid", k)
		}
	}
	if Kind("html").Valid() {
		t.Error("html valid")
	}
}

func TestReapError(t *testing.T) {
	for _, tc := range []struct {
		s    Status
		age  time.Duration
		want string
	}{
		{StatusRunning, 1801500 * time.Millisecond, "reaped: task stuck in 'running' for 1801s (worker likely lost mid-run); safe to retry"},
		{StatusQueued, 7300 * time.Second, "reaped: task stuck in 'queued' for 7300s (enqueue likely lost to a broker outage); safe to retry"},
	} {
		if got := ReapError(tc.s, tc.age); got != tc.want {
			t.Errorf("ReapError(%s) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestTruncateError(t *testing.T) {
	long := strings.Repeat("é", MaxErrorLen+10)
	if got := TruncateError(long); len([]rune(got)) != MaxErrorLen {
		t.Errorf("len %d", len([]rune(got)))
	}
	if TruncateError("short") != "short" {
		t.Error("short changed")
	}
}
