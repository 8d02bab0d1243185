package advisory

import (
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/project"
)

// ErrNotFound is returned for an advisory that does not exist or that the
// caller may not see: both answer the same (INV-PRIVACY-1).
var ErrNotFound = apperr.New(apperr.NotFound, "advisory not found")

// ProjectRef is what an advisory needs to know about its project: the
// payload captures Slug and Name (data-model §4.2), authorization reads the
// security-team group and the mature-publisher flag (permissions.md §3, §7).
type ProjectRef struct {
	ID          string // projects.id, a UUID
	Slug        string
	Name        string
	TeamGroupID int64 // projects.security_team_id
	IsMature    bool  // projects.is_mature_publisher (INV-PERM-2)
}

// RefOf returns the advisory's view of project p.
func RefOf(p project.Project) ProjectRef {
	return ProjectRef{ID: p.ID, Slug: p.Slug, Name: p.Name, TeamGroupID: p.SecurityTeamID, IsMature: p.IsMaturePublisher}
}

// IsUnsorted reports whether r is the sentinel project for reports filed
// without a known project (INV-PROJECT-2, INV-INTAKE-4).
func (r ProjectRef) IsUnsorted() bool { return r.Slug == project.UnsortedSlug }

// Advisory is the live advisory row (data-model §4.1) with its project and
// its intake routing flag. ID is the internal key every table references;
// AdvisoryID the public, immutable identifier (INV-ID-1).
type Advisory struct {
	ID         int64
	AdvisoryID ID
	Project    ProjectRef

	State              State
	ReviewStatus       ReviewStatus
	Kind               Kind
	DismissedReason    string
	DismissedFromState State // "" until the first dismissal
	RepublishRequired  bool
	// AccessReviewRequiredAt is set by a project change and cleared when an
	// owner acknowledges the access-review banner.
	AccessReviewRequiredAt *time.Time

	// Payload-visible content (INV-VERSION-1).
	Content         Content
	AssignedCVEID   CVEID // "" when none
	WithdrawnReason string

	// Derived from Content.Severity on every write of it; never versioned.
	SeverityLevel SeverityLevel
	SeverityScore *float64

	// Pending draft-reassignment request (INV-AUTH-9): the four fields
	// clear together.
	ReassignmentRequestedAt        *time.Time
	ReassignmentRequestedByID      int64
	ReassignmentRequestNote        string
	ReassignmentSuggestedProjectID string // "" = no suggestion
	// Pending withdrawal request (INV-WITHDRAW): the three fields clear
	// together.
	WithdrawalRequestedAt   *time.Time
	WithdrawalRequestedByID int64
	WithdrawalRequestNote   string

	CommentsLocked    bool
	CVERequestsBanned bool

	// Routing is the triage routing flag kept in the intake sidecar
	// (INV-AUTH-6, INV-INTAKE-4); zero when there is no sidecar.
	Routing Routing

	GHSAID               GHSAID // "" for native advisories
	GHSAOwner            string
	GHSARepo             string
	GHSAMetadataSyncedAt *time.Time

	CreatedByID          int64 // 0 = none
	CreatedAt            time.Time
	ModifiedAt           time.Time
	PublishedAt          *time.Time
	SubmittedForReviewAt *time.Time
}

// Routing is the admin-routing flag of a triage report
// (advisory_intake_metadata.needs_admin_routing and its note).
type Routing struct {
	NeedsAdminRouting bool
	Note              string
	FlaggedAt         *time.Time
	FlaggedByID       int64 // 0 = none
}

// Payload returns the frozen content record of a's current content
// (data-model §4.2), capturing the project's slug and name as they are now.
func (a *Advisory) Payload() Payload {
	return Payload{
		AdvisoryID:           a.AdvisoryID,
		ProjectSlug:          a.Project.Slug,
		ProjectName:          a.Project.Name,
		Content:              a.Content,
		AssignedCVEID:        a.AssignedCVEID,
		WithdrawnReason:      a.WithdrawnReason,
		Kind:                 a.Kind,
		GHSAID:               a.GHSAID,
		GHSAOwner:            a.GHSAOwner,
		GHSARepo:             a.GHSARepo,
		GHSAMetadataSyncedAt: a.GHSAMetadataSyncedAt,
	}
}

// Version is one row of an advisory's append-only content history
// (data-model §4.3, INV-VERSION-1, INV-IMPL-5).
type Version struct {
	ID         int64 // advisory_versions.id; tasks pin it (INV-VERSION-2)
	AdvisoryID int64 // internal advisories.id
	Number     int   // 1, 2, …
	Payload    Payload
	EditorID   int64 // 0 for the system
	CreatedAt  time.Time
}

// ListItem is one row of an advisory list: the compact form the list pages
// and the API's AdvisorySummary show.
type ListItem struct {
	ID                int64
	AdvisoryID        ID
	ProjectID         string
	ProjectSlug       string
	ProjectName       string
	State             State
	ReviewStatus      ReviewStatus
	Kind              Kind
	Summary           string
	SeverityLevel     SeverityLevel
	RepublishRequired bool
	CreatedAt         time.Time
	ModifiedAt        time.Time
	PublishedAt       *time.Time
}

// ErrVersionNotFound is returned for a version number the advisory does not
// have.
var ErrVersionNotFound = apperr.New(apperr.NotFound, "advisory version not found")
