// Package publication holds the publication task's domain types
// (lifecycle §6): its statuses, the artifact kinds, the reaper's error
// texts and the limits on the recorded error. It is pure: no database, no
// git, no clock.
package publication

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// Status is PublicationTask.status.
type Status string

// Task statuses (lifecycle §6.1). succeeded and failed are terminal for
// users; only a redelivered message re-runs a failed task in place.
const (
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusQueued, StatusRunning, StatusSucceeded, StatusFailed:
		return true
	}
	return false
}

// Active reports whether s counts against the one-in-flight rule
// (INV-CONCURRENCY-1).
func (s Status) Active() bool { return s == StatusQueued || s == StatusRunning }

// Runnable reports whether a worker may pick up a task in status s
// (lifecycle P4: queued, or failed on redelivery).
func (s Status) Runnable() bool { return s == StatusQueued || s == StatusFailed }

// Kind is PublicationArtifact.kind.
type Kind string

// Artifact kinds.
const (
	KindOSV  Kind = "osv"
	KindCSAF Kind = "csaf"
	KindCVE  Kind = "cve"
)

// Valid reports whether k is a known artifact kind.
func (k Kind) Valid() bool { return k == KindOSV || k == KindCSAF || k == KindCVE }

// Task is one publication attempt pinned to one advisory version
// (INV-VERSION-2).
type Task struct {
	ID             int64
	AdvisoryID     int64 // internal advisories.id
	PublicID       string
	VersionID      int64
	VersionNumber  int
	Status         Status
	Attempts       int
	LastError      string
	CommitSHA      string
	QueueMessageID string
	EnqueuedByID   int64 // 0 = system
	CreatedAt      time.Time
	StartedAt      *time.Time
	FinishedAt     *time.Time
	Artifacts      []Artifact // kind and path only, unless loaded with content
}

// Artifact is one exported document of a task.
type Artifact struct {
	Kind      Kind
	Path      string
	Content   []byte // canonical JSON; nil when only listed
	CreatedAt time.Time
}

// Errors of the publication use cases.
var (
	// ErrTaskNotFound: no such task, or not visible to the caller.
	ErrTaskNotFound = apperr.New(apperr.NotFound, "publication task not found")
	// ErrArtifactNotFound: the task has no artifact of that kind.
	ErrArtifactNotFound = apperr.New(apperr.NotFound, "publication artifact not found")
	// ErrNotFailed: only a failed task can be retried (API 400 not_failed).
	ErrNotFailed = apperr.New(apperr.Invalid, "only a failed publication can be retried")
	// ErrNoVersion: the advisory has no version to pin.
	ErrNoVersion = apperr.New(apperr.Conflict, "the advisory has no version to publish")
	// ErrNotConfigured: PUB_REPO_URL is not set.
	ErrNotConfigured = apperr.New(apperr.Invalid, "the publication repository is not configured")
)

// MaxErrorLen bounds last_error (lifecycle P6: ≤ 8000 characters).
const MaxErrorLen = 8000

// TruncateError cuts s to MaxErrorLen characters, on a rune boundary.
func TruncateError(s string) string {
	if utf8.RuneCountInString(s) <= MaxErrorLen {
		return s
	}
	r := []rune(s)
	return string(r[:MaxErrorLen])
}

// Reaper causes (operations §8).
const (
	CauseRunning = "worker likely lost mid-run"
	CauseQueued  = "enqueue likely lost to a broker outage"
)

// ReapError is the synthetic last_error of a reaped task (operations §8):
// "reaped: task stuck in '<status>' for <n>s (<cause>); safe to retry".
func ReapError(status Status, age time.Duration) string {
	cause := CauseQueued
	if status == StatusRunning {
		cause = CauseRunning
	}
	return fmt.Sprintf("reaped: task stuck in '%s' for %ds (%s); safe to retry", status, int64(age/time.Second), cause)
}

// CommitMessage is the deterministic commit message of a publication
// (lifecycle W8).
func CommitMessage(advisoryID string) string {
	return "Publish advisory " + strings.TrimSpace(advisoryID)
}

// TrailerID is the value of the commit trailer that names task id, so a
// worker recognises its own commit after a crash between push and
// finalize.
func TrailerID(taskID int64) string { return fmt.Sprintf("publication-task-%d", taskID) }
