// Package audit is the pure domain of the audit trail: the closed catalogue
// of 97 action strings, which of the two stores each one goes to (the
// durable, hash-chained ledger or the retention-managed access log), its
// advisory-timeline tier, and the recording contract that turns an Entry
// into the values stored (redaction, NULL mapping, truncation).
//
// The store is decided solely by the action string: the 13 actions of the
// ephemeral allowlist go to the access log, every other known action to the
// ledger, and an unknown action is refused. The allowlist and the timeline
// tiers are disjoint, so dropping an access-log partition never erases
// timeline history (INV-AUDIT-5).
//
// Nothing here touches the database, the network or the clock; the writer
// is postgres.DB.InsertAudit.
//
// Sources: audit-actions.md (all), data-model §14, INV-AUDIT-1..6.
package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/eclipse-csi/advisoryhub/shared/redact"
)

// Action is one of the catalogue's action strings, e.g. "advisory.created".
type Action string

// Tier is the advisory-activity-timeline tier that shows an action.
// Visibility is cumulative: a collaborator sees TierViewer and
// TierCollaborator entries, an owner or admin all three.
type Tier int

// Timeline tiers (audit-actions.md, column "Timeline").
const (
	TierNone         Tier = iota // never on the timeline
	TierViewer                   // A: viewer and up
	TierCollaborator             // B: collaborator and up
	TierOwner                    // C: owner/admin only
)

var tierNames = [...]string{"none", "viewer", "collaborator", "owner"}

// String returns the tier's name.
func (t Tier) String() string {
	if t < 0 || int(t) >= len(tierNames) {
		return fmt.Sprintf("Tier(%d)", int(t))
	}
	return tierNames[t]
}

// Valid reports whether t is one of the four tiers.
func (t Tier) Valid() bool { return t >= TierNone && t <= TierOwner }

type actionInfo struct {
	action    Action
	tier      Tier
	ephemeral bool
}

func lookup(a Action) (actionInfo, bool) {
	for _, info := range catalogue() {
		if info.action == a {
			return info, true
		}
	}
	return actionInfo{}, false
}

// Actions lists the 97 catalogue actions in catalogue order.
func Actions() []Action {
	c := catalogue()
	out := make([]Action, len(c))
	for i, info := range c {
		out[i] = info.action
	}
	return out
}

// EphemeralActions lists the access-log allowlist (audit-actions.md §1.15).
func EphemeralActions() []Action {
	var out []Action
	for _, info := range catalogue() {
		if info.ephemeral {
			out = append(out, info.action)
		}
	}
	return out
}

// TimelineActions lists the actions an advisory timeline shows to a reader
// whose tier is upTo: every action of tier TierViewer..upTo. It is empty
// for TierNone.
func TimelineActions(upTo Tier) []Action {
	var out []Action
	for _, info := range catalogue() {
		if info.tier != TierNone && info.tier <= upTo {
			out = append(out, info.action)
		}
	}
	return out
}

// Valid reports whether a is in the catalogue (legacy actions included, so
// historical rows still parse).
func (a Action) Valid() bool {
	_, ok := lookup(a)
	return ok
}

// Ephemeral reports whether a belongs to the access-log allowlist. An
// action outside the catalogue is not ephemeral.
func (a Action) Ephemeral() bool {
	info, _ := lookup(a)
	return info.ephemeral
}

// Tier returns the timeline tier of a; TierNone for actions never shown and
// for unknown actions.
func (a Action) Tier() Tier {
	info, _ := lookup(a)
	return info.tier
}

// ErrUnknownAction is returned for an action string outside the catalogue.
var ErrUnknownAction = errors.New("audit: unknown action")

// MaxUserAgent is the stored user-agent length, in characters.
const MaxUserAgent = 512

// Metadata keys under which an access-log entry keeps caller-supplied
// previous/new values and a comment id (the access log has no such
// columns).
const (
	KeyPreviousValue = "_previous_value"
	KeyNewValue      = "_new_value"
	KeyCommentID     = "comment_id"
)

// Entry is one event to record. Zero values mean absent: they are stored
// as NULL (ids, values, IP) or as the column default (metadata {}, user
// agent ”).
type Entry struct {
	ActorID    int64          // 0 = system/anonymous (NULL)
	Action     Action         // required, from the catalogue
	AdvisoryID int64          // internal advisories.id, 0 = NULL
	CommentID  int64          // 0 = NULL
	Previous   any            // marshalled to JSON, redacted; nil = NULL
	New        any            // ditto
	Metadata   map[string]any // redacted; nil = {}
	IP         string         // "" = NULL; must parse as an IP
	UserAgent  string         // redacted, then truncated to 512 characters
}

// Prepared is an Entry as it is stored: validated, redacted (INV-AUDIT-2)
// and encoded. JSON fields hold encoded JSON; nil means SQL NULL.
type Prepared struct {
	Ephemeral  bool // true: the access log; false: the ledger
	ActorID    int64
	Action     Action
	AdvisoryID int64
	CommentID  int64 // always 0 for the access log
	Previous   []byte
	New        []byte
	Metadata   []byte // never nil
	IP         string // canonical form, "" = NULL
	UserAgent  string
}

// Prepare applies the recording contract (audit-actions.md §2). It refuses
// an unknown action and an IP that does not parse. For an ephemeral action
// it shapes the access-log row: Previous and New are folded into the
// metadata under "_previous_value" / "_new_value" and CommentID under
// "comment_id", each only when the key is not already present. Every
// string reaching either store is redacted.
func (e Entry) Prepare() (Prepared, error) {
	info, ok := lookup(e.Action)
	if !ok {
		return Prepared{}, fmt.Errorf("%w %q", ErrUnknownAction, e.Action)
	}
	p := Prepared{
		Ephemeral:  info.ephemeral,
		ActorID:    positive(e.ActorID),
		Action:     e.Action,
		AdvisoryID: positive(e.AdvisoryID),
		UserAgent:  redact.Truncate(clean(redact.String(e.UserAgent)), MaxUserAgent),
	}
	if e.IP != "" {
		addr, err := netip.ParseAddr(strings.TrimSpace(e.IP))
		if err != nil {
			return Prepared{}, fmt.Errorf("audit %s: invalid IP address", e.Action)
		}
		p.IP = addr.WithZone("").Unmap().String()
	}

	meta := make(map[string]any, len(e.Metadata)+3)
	for k, v := range e.Metadata {
		meta[k] = v
	}
	if info.ephemeral {
		fold := func(key string, v any) {
			if _, taken := meta[key]; !taken && !isNull(v) {
				meta[key] = v
			}
		}
		fold(KeyPreviousValue, e.Previous)
		fold(KeyNewValue, e.New)
		if e.CommentID > 0 {
			fold(KeyCommentID, e.CommentID)
		}
	} else {
		p.CommentID = positive(e.CommentID)
		var err error
		if p.Previous, err = encode(e.Previous); err != nil {
			return Prepared{}, fmt.Errorf("audit %s: previous value: %w", e.Action, err)
		}
		if p.New, err = encode(e.New); err != nil {
			return Prepared{}, fmt.Errorf("audit %s: new value: %w", e.Action, err)
		}
	}
	m, err := encode(meta)
	if err != nil {
		return Prepared{}, fmt.Errorf("audit %s: metadata: %w", e.Action, err)
	}
	p.Metadata = m
	return p, nil
}

func positive(id int64) int64 {
	if id < 0 {
		return 0
	}
	return id
}

// isNull reports whether v encodes as JSON null.
func isNull(v any) bool {
	if v == nil {
		return true
	}
	b, err := json.Marshal(v)
	return err == nil && string(b) == "null"
}

// encode redacts v and encodes it as JSON; JSON null (or nil) gives nil.
func encode(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	// Normalise to generic JSON first, so raw JSON and structs are walked
	// like maps (numbers kept verbatim).
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	b, err := json.Marshal(sanitize(redact.JSON(generic)))
	if err != nil {
		return nil, err
	}
	if string(b) == "null" {
		return nil, nil
	}
	return b, nil
}

// sanitize makes a redacted JSON value storable in jsonb: PostgreSQL
// refuses the NUL character (\u0000) and invalid UTF-8, so both are
// replaced, in keys and in strings.
func sanitize(v any) any {
	switch x := v.(type) {
	case string:
		return clean(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[clean(k)] = sanitize(val)
		}
		return out
	case []any:
		for i, val := range x {
			x[i] = sanitize(val)
		}
		return x
	}
	return v
}

func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// Record is a stored ledger entry, as the ledger browser and the advisory
// timeline read it.
type Record struct {
	ID         int64
	CreatedAt  time.Time
	ActorID    int64  // 0 = system/anonymous, or the actor was deleted
	ActorLabel string // trimmed display name, else email; "" without actor
	Action     Action
	AdvisoryID int64 // internal advisories.id, 0 = none
	CommentID  int64
	Previous   json.RawMessage // nil = NULL
	New        json.RawMessage // nil = NULL
	Metadata   json.RawMessage
	IP         string
	UserAgent  string
}
