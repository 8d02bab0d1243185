package csaf_test

import "time"

func zero() time.Time { return time.Time{} }
