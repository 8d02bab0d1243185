package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/eclipse-csi/advisoryhub/shared/apperr"
)

// notFound maps pgx.ErrNoRows to the NotFound kind and passes other errors
// through. Only this package looks at pgx errors.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.Wrap(apperr.NotFound, "not found", err)
	}
	return err
}
