package advisory

import "slices"

// State is the lifecycle state, exactly one of four (INV-LIFECYCLE-1).
type State string

// Lifecycle states.
const (
	StateTriage    State = "triage"
	StateDraft     State = "draft"
	StatePublished State = "published"
	StateDismissed State = "dismissed"
)

// States lists the lifecycle states in lifecycle order.
func States() []State { return []State{StateTriage, StateDraft, StatePublished, StateDismissed} }

// Valid reports whether s is one of the four lifecycle states.
func (s State) Valid() bool { return slices.Contains(States(), s) }

// ReviewStatus is the review machine riding beside the lifecycle.
type ReviewStatus string

// Review statuses.
const (
	ReviewNone             ReviewStatus = "none"
	ReviewSubmitted        ReviewStatus = "submitted"
	ReviewChangesRequested ReviewStatus = "changes_requested"
	ReviewApproved         ReviewStatus = "approved"
)

// ReviewStatuses lists the review statuses.
func ReviewStatuses() []ReviewStatus {
	return []ReviewStatus{ReviewNone, ReviewSubmitted, ReviewChangesRequested, ReviewApproved}
}

// Valid reports whether r is a known review status.
func (r ReviewStatus) Valid() bool { return slices.Contains(ReviewStatuses(), r) }

// Kind says whether the advisory is authored here or mirrors a GHSA.
type Kind string

// Advisory kinds.
const (
	KindNative     Kind = "native"
	KindGHSALinked Kind = "ghsa_linked"
)

// Kinds lists the advisory kinds.
func Kinds() []Kind { return []Kind{KindNative, KindGHSALinked} }

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// GHSAState mirrors the upstream GitHub advisory's state.
type GHSAState string

// GHSA states.
const (
	GHSAStateUnknown   GHSAState = "unknown"
	GHSAStateDraft     GHSAState = "draft"
	GHSAStateTriage    GHSAState = "triage"
	GHSAStatePublished GHSAState = "published"
	GHSAStateClosed    GHSAState = "closed"
	GHSAStateWithdrawn GHSAState = "withdrawn"
)

// GHSAStates lists the GHSA states.
func GHSAStates() []GHSAState {
	return []GHSAState{GHSAStateUnknown, GHSAStateDraft, GHSAStateTriage, GHSAStatePublished, GHSAStateClosed, GHSAStateWithdrawn}
}

// Valid reports whether s is a known GHSA state.
func (s GHSAState) Valid() bool { return slices.Contains(GHSAStates(), s) }

// SeverityLevel is the derived, denormalised qualitative severity stored in
// severity_level. Ubuntu's "negligible" folds into SeverityLow, so it is not
// a level.
type SeverityLevel string

// Severity levels, lowest first.
const (
	SeverityNone     SeverityLevel = "none"
	SeverityLow      SeverityLevel = "low"
	SeverityMedium   SeverityLevel = "medium"
	SeverityHigh     SeverityLevel = "high"
	SeverityCritical SeverityLevel = "critical"
)

// SeverityLevels lists the levels, lowest first.
func SeverityLevels() []SeverityLevel {
	return []SeverityLevel{SeverityNone, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}
}

// Valid reports whether l is a known level.
func (l SeverityLevel) Valid() bool { return slices.Contains(SeverityLevels(), l) }

// ReferenceType is the OSV reference type.
type ReferenceType string

// Reference types.
const (
	RefAdvisory   ReferenceType = "ADVISORY"
	RefArticle    ReferenceType = "ARTICLE"
	RefDetection  ReferenceType = "DETECTION"
	RefDiscussion ReferenceType = "DISCUSSION"
	RefReport     ReferenceType = "REPORT"
	RefFix        ReferenceType = "FIX"
	RefIntroduced ReferenceType = "INTRODUCED"
	RefGit        ReferenceType = "GIT"
	RefPackage    ReferenceType = "PACKAGE"
	RefEvidence   ReferenceType = "EVIDENCE"
	RefWeb        ReferenceType = "WEB"
)

// ReferenceTypes lists the reference types.
func ReferenceTypes() []ReferenceType {
	return []ReferenceType{RefAdvisory, RefArticle, RefDetection, RefDiscussion, RefReport, RefFix, RefIntroduced, RefGit, RefPackage, RefEvidence, RefWeb}
}

// Valid reports whether t is a known reference type. The empty type is not
// valid here; a Reference treats it as WEB (see Reference.EffectiveType).
func (t ReferenceType) Valid() bool { return slices.Contains(ReferenceTypes(), t) }

// RangeType is the OSV affected range type.
type RangeType string

// Range types.
const (
	RangeSemver    RangeType = "SEMVER"
	RangeEcosystem RangeType = "ECOSYSTEM"
	RangeGit       RangeType = "GIT"
)

// RangeTypes lists the range types.
func RangeTypes() []RangeType { return []RangeType{RangeSemver, RangeEcosystem, RangeGit} }

// Valid reports whether t is a known range type.
func (t RangeType) Valid() bool { return slices.Contains(RangeTypes(), t) }

// SeverityType is the type of a severity entry.
type SeverityType string

// Severity types.
const (
	SeverityCVSSV2 SeverityType = "CVSS_V2"
	SeverityCVSSV3 SeverityType = "CVSS_V3"
	SeverityCVSSV4 SeverityType = "CVSS_V4"
	SeverityUbuntu SeverityType = "Ubuntu"
)

// SeverityTypes lists the severity types.
func SeverityTypes() []SeverityType {
	return []SeverityType{SeverityCVSSV2, SeverityCVSSV3, SeverityCVSSV4, SeverityUbuntu}
}

// Valid reports whether t is a known severity type.
func (t SeverityType) Valid() bool { return slices.Contains(SeverityTypes(), t) }

// UbuntuPriorities are the allowed scores of an Ubuntu severity entry.
func UbuntuPriorities() []string {
	return []string{"negligible", "low", "medium", "high", "critical"}
}

// CreditType is the OSV credit type.
type CreditType string

// Credit types.
const (
	CreditFinder               CreditType = "FINDER"
	CreditReporter             CreditType = "REPORTER"
	CreditAnalyst              CreditType = "ANALYST"
	CreditCoordinator          CreditType = "COORDINATOR"
	CreditRemediationDeveloper CreditType = "REMEDIATION_DEVELOPER"
	CreditRemediationReviewer  CreditType = "REMEDIATION_REVIEWER"
	CreditRemediationVerifier  CreditType = "REMEDIATION_VERIFIER"
	CreditTool                 CreditType = "TOOL"
	CreditSponsor              CreditType = "SPONSOR"
	CreditOther                CreditType = "OTHER"
)

// CreditTypes lists the credit types.
func CreditTypes() []CreditType {
	return []CreditType{CreditFinder, CreditReporter, CreditAnalyst, CreditCoordinator, CreditRemediationDeveloper, CreditRemediationReviewer, CreditRemediationVerifier, CreditTool, CreditSponsor, CreditOther}
}

// Valid reports whether t is a known credit type.
func (t CreditType) Valid() bool { return slices.Contains(CreditTypes(), t) }
