package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/access"
	"github.com/eclipse-csi/advisoryhub/shared/advisory"
	"github.com/eclipse-csi/advisoryhub/shared/apperr"
	"github.com/eclipse-csi/advisoryhub/shared/project"
)

// Advisory visibility in SQL (INV-PRIVACY-1, INV-CONF-2). Every list,
// search, count and pagination total is computed over the advisories the
// subject may see, by a filter that mirrors access.Visible exactly:
//
//	subject authenticated (access.Subject.Authenticated) AND (
//	    subject is an admin                                  → all rows
//	 OR the advisory's project team is one of its groups     → owner
//	 OR a viewer/collaborator grant names the user or one of its groups)
//
// The row-level-security policy advisory_visibility is the backstop below
// it; the drift test runs the same population through this filter, the
// policy alone and access.Resolve and requires them to agree.

// PrincipalOf is the row-level-security principal that acts for s: nobody
// for an anonymous, banned (INV-AUTH-8) or shadow (INV-OIDC-5) subject, so
// the policy, which reads only the principal and the group mirror, agrees
// with access.Resolve for every subject.
func PrincipalOf(s access.Subject) Principal {
	if !s.Authenticated() {
		return Principal{}
	}
	return Principal{UserID: s.UserID, IsAdmin: s.Admin()}
}

// visibleTo returns the SQL condition, on advisories aliased a, that keeps
// the rows s may see, appending its parameters to args. Both subqueries are
// uncorrelated, so PostgreSQL runs each once per query (a hashed subplan)
// and probes it per row; the grant lookups are split by principal type so
// each is an index-only scan of access_grants_principal_covering_idx.
func visibleTo(s access.Subject, args *[]any) string {
	switch {
	case !s.Authenticated():
		return "false"
	case s.Admin():
		return "true"
	}
	groups := slices.DeleteFunc(slices.Clone(s.GroupIDs), func(id int64) bool { return id == 0 })
	uid, gids := arg(args, s.UserID), arg(args, groups)
	return `(a.project_id IN (SELECT tp.id FROM projects tp WHERE tp.security_team_id = ANY(` + gids + `::bigint[]))
	 OR a.id IN (SELECT g.advisory_id FROM access_grants g
	              WHERE g.principal_type = 'user' AND g.principal_id = ` + uid + `::bigint
	                AND g.permission IN ('viewer', 'collaborator')
	             UNION ALL
	             SELECT g.advisory_id FROM access_grants g
	              WHERE g.principal_type = 'group' AND g.principal_id = ANY(` + gids + `::bigint[])
	                AND g.permission IN ('viewer', 'collaborator')))`
}

// arg appends v to args and returns its placeholder.
func arg(args *[]any, v any) string {
	*args = append(*args, v)
	return "$" + strconv.Itoa(len(*args))
}

// VisibleAdvisoryIDs returns the internal ids of every advisory s may see,
// in id order.
func (db *DB) VisibleAdvisoryIDs(ctx context.Context, s access.Subject) ([]int64, error) {
	var args []any
	rows, err := db.Query(ctx, `SELECT a.id FROM advisories a WHERE `+visibleTo(s, &args)+` ORDER BY a.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("visible advisories: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("visible advisories: %w", err)
	}
	return ids, nil
}

// Page sizes of the advisory list (operations.md, GET /api/advisories/).
const (
	DefaultPageSize = 25
	MaxPageSize     = 100
)

// AdvisoryFilter selects advisories for ListAdvisories. Zero fields do not
// filter.
type AdvisoryFilter struct {
	// Q is a case-insensitive substring of the summary, details, public id
	// or one of the aliases.
	Q string
	// ProjectID is a project's UUID; a malformed one is refused as Invalid.
	ProjectID string
	State     advisory.State
	// ReviewStatus is not validated: an unknown value matches nothing.
	ReviewStatus advisory.ReviewStatus
	// Page is 1-based; values below 1 mean 1.
	Page int
	// PageSize is clamped to 1–MaxPageSize; 0 means DefaultPageSize.
	PageSize int
}

// Normalized returns f as ListAdvisories reads it: Q trimmed, Page at least 1,
// PageSize defaulted and clamped.
func (f AdvisoryFilter) Normalized() AdvisoryFilter {
	f.Q = strings.TrimSpace(f.Q)
	f.Page = max(f.Page, 1)
	if f.PageSize == 0 {
		f.PageSize = DefaultPageSize
	}
	f.PageSize = min(max(f.PageSize, 1), MaxPageSize)
	return f
}

// AdvisoryPage is one page of ListAdvisories.
type AdvisoryPage struct {
	Items    []advisory.ListItem
	Total    int // every match of the filter visible to the subject
	Page     int
	PageSize int
}

// ListAdvisories returns one page of the advisories s may see that match f,
// newest first, with the total count of matches. Visibility is filtered in
// the query itself, so neither the page nor the total ever reveals an
// advisory s cannot see (INV-PRIVACY-1); the transaction's principal must
// be PrincipalOf(s), or the system principal.
func (db *DB) ListAdvisories(ctx context.Context, s access.Subject, f AdvisoryFilter) (AdvisoryPage, error) {
	f = f.Normalized()
	if f.ProjectID != "" && !project.ValidID(f.ProjectID) {
		return AdvisoryPage{}, apperr.New(apperr.Invalid, "invalid project id")
	}
	var args []any
	// When the transaction acts as the subject itself, row-level security
	// already applies exactly this visibility rule (the drift test keeps
	// the two equal), so the filter is not evaluated a second time per row;
	// under any other principal (the system's, say) it is.
	vis := "true"
	if !db.actsAs(PrincipalOf(s)) {
		vis = visibleTo(s, &args)
	}
	where := []string{vis}
	if f.Q != "" {
		q := arg(&args, "%"+escapeLike(f.Q)+"%")
		where = append(where, `(a.summary ILIKE `+q+` OR a.details ILIKE `+q+` OR a.advisory_id ILIKE `+q+
			` OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(a.aliases) al(v) WHERE al.v ILIKE `+q+`))`)
	}
	if f.ProjectID != "" {
		where = append(where, `a.project_id = `+arg(&args, f.ProjectID)+`::uuid`)
	}
	if f.State != "" {
		where = append(where, `a.state = `+arg(&args, string(f.State)))
	}
	if f.ReviewStatus != "" {
		where = append(where, `a.review_status = `+arg(&args, string(f.ReviewStatus)))
	}
	cond := strings.Join(where, "\n AND ")

	page := AdvisoryPage{Page: f.Page, PageSize: f.PageSize}
	filterArgs := args
	count := func() error {
		if err := db.QueryRow(ctx, `SELECT count(*) FROM advisories a WHERE `+cond, filterArgs...).Scan(&page.Total); err != nil {
			return fmt.Errorf("list advisories: count: %w", err)
		}
		return nil
	}
	// An admin's rows pass the policy without a lookup: the total is a
	// plain count and the page a walk down the created_at index that stops
	// at the page's last row. Anyone else's rows are tested against the
	// visibility sets (here and in the policy), which each scan builds: one
	// scan then yields both the page and, by a window count over every
	// match, the total. A page past the end has no row to carry the total,
	// so then it is counted alone.
	total := "count(*) OVER ()"
	counted := s.Admin()
	if counted {
		if err := count(); err != nil {
			return AdvisoryPage{}, err
		}
		if page.Total <= (f.Page-1)*f.PageSize {
			return page, nil
		}
		total = "0"
	}
	limit, offset := arg(&args, f.PageSize), arg(&args, (f.Page-1)*f.PageSize)
	// The window is computed in its own subquery, over an unordered scan:
	// asked for created_at order directly, PostgreSQL walks the created_at
	// index through every row, which costs more than a scan and a top-N
	// sort of the matches.
	rows, err := db.Query(ctx, `SELECT x.id, x.advisory_id, p.id::text, p.slug, p.name, x.state, x.review_status,
		x.kind, x.summary, x.severity_level, x.republish_required, x.created_at, x.modified_at, x.published_at, x.total
		FROM (SELECT w.* FROM (
		        SELECT a.id, a.advisory_id, a.project_id, a.state, a.review_status, a.kind, a.summary,
		               a.severity_level, a.republish_required, a.created_at, a.modified_at, a.published_at,
		               `+total+` AS total
		          FROM advisories a
		         WHERE `+cond+`) w
		       ORDER BY w.created_at DESC, w.id DESC
		       LIMIT `+limit+` OFFSET `+offset+`) x
		JOIN projects p ON p.id = x.project_id
		ORDER BY x.created_at DESC, x.id DESC`, args...)
	if err != nil {
		return AdvisoryPage{}, fmt.Errorf("list advisories: %w", err)
	}
	var windowTotal int
	page.Items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (advisory.ListItem, error) {
		var it advisory.ListItem
		err := r.Scan(&it.ID, &it.AdvisoryID, &it.ProjectID, &it.ProjectSlug, &it.ProjectName, &it.State,
			&it.ReviewStatus, &it.Kind, &it.Summary, &it.SeverityLevel, &it.RepublishRequired,
			&it.CreatedAt, &it.ModifiedAt, &it.PublishedAt, &windowTotal)
		return it, err
	})
	if err != nil {
		return AdvisoryPage{}, fmt.Errorf("list advisories: %w", err)
	}
	switch {
	case counted:
	case len(page.Items) > 0:
		page.Total = windowTotal
	case f.Page > 1:
		if err := count(); err != nil {
			return AdvisoryPage{}, err
		}
	}
	return page, nil
}

// escapeLike escapes the LIKE wildcards in s (backslash is the default
// escape character).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListGeneration returns the advisory-list generation of the transaction's
// snapshot: every committed change to advisories, grants, group memberships
// or projects advances it (migration 00010), so two snapshots with the same
// generation list the same advisories for the same subject and filter. Read
// it in the same snapshot as the list it keys (a REPEATABLE READ
// transaction).
func (db *DB) ListGeneration(ctx context.Context) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, `SELECT n FROM list_generation WHERE singleton`).Scan(&n); err != nil {
		return 0, fmt.Errorf("list generation: %w", err)
	}
	return n, nil
}
