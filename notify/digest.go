package notify

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	hub "github.com/felhom/hub"
)

// digestTemplate is the Hungarian template of a customer digest: several
// customer mails in one.
const digestTemplate = "digest"

// eventMailData fills in what a mail about event e shows. A host's mail
// names the controller that is unreachable with it, since the controller's
// own stale and down mails are inhibited while the host is out.
func (d *Dispatcher) eventMailData(e *hub.Event, st *hub.NotificationState, details map[string]any) *MailData {
	data := d.mailData(e.CustomerID, st, details)
	data.EventType, data.Severity, data.Message = e.Type, e.Severity, e.Message
	data.When = e.OccurredAt.In(d.Location)
	if (e.Type == hub.EventHostStale || e.Type == hub.EventHostDown) && st.Customer != nil && st.Customer.Latest != nil {
		data.Controller = st.Customer.Latest.Hostname
		if data.Controller == "" {
			data.Controller = e.CustomerID
		}
	}
	return data
}

// digest completes the plan of a customer mail that noise control holds
// for the digest window (Hold) or folds into the one held already (Fold).
func (d *Dispatcher) digest(p *hub.PlannedNotification, dec Decision, e *hub.Event, st *hub.NotificationState, details map[string]any) error {
	folding := dec.Status == hub.NotificationSkipped && dec.Reason == hub.SkipDigested
	if dec.Hold <= 0 && !folding {
		return nil
	}
	item, err := d.digestItem(e, st, details)
	if err != nil {
		return err
	}
	if !folding {
		p.Hold, p.Digest = dec.Hold, item
		return nil
	}
	held := st.Noise.Digest
	items := append(append([]hub.DigestItem(nil), held.Items...), *item)
	r, err := d.Templates.RenderDigest(items, d.mailData(e.CustomerID, st, nil), d)
	if err != nil {
		return err
	}
	cooldown := dec.Cooldown
	p.Cooldown = &cooldown
	p.Fold = &hub.DigestFold{OutboxID: held.OutboxID, LogID: held.LogID, Items: items,
		Email: &hub.Email{To: dec.Recipient, Subject: r.Subject, Text: r.Text, HTML: r.HTML}}
	return nil
}

// digestItem renders the Hungarian subject and body of e's own customer
// mail, as a digest lists it.
func (d *Dispatcher) digestItem(e *hub.Event, st *hub.NotificationState, details map[string]any) (*hub.DigestItem, error) {
	subject, body, err := d.Templates.renderParts(Hungarian, e.Type, d.eventMailData(e, st, details))
	if err != nil {
		return nil, err
	}
	return &hub.DigestItem{EventType: e.Type, At: e.OccurredAt.UTC(), Subject: subject, Body: body}, nil
}

// renderParts renders the bare subject and plain-text body of the template
// name of lang (the generic one when name has none), without the layout.
func (t *Templates) renderParts(lang, name string, data *MailData) (subject, body string, err error) {
	tt := t.text[lang+"/"+name]
	if tt == nil {
		tt = t.text[lang+"/"+genericTemplate]
		if tt == nil {
			return "", "", fmt.Errorf("no %s mail template for %s", lang, name)
		}
	}
	var s, b bytes.Buffer
	if err := tt.ExecuteTemplate(&s, "subject", data); err != nil {
		return "", "", fmt.Errorf("render %s/%s subject: %w", lang, name, err)
	}
	if err := tt.ExecuteTemplate(&b, "body", data); err != nil {
		return "", "", fmt.Errorf("render %s/%s body: %w", lang, name, err)
	}
	return headerText(s.String()), strings.TrimSpace(tidyText(b.String())), nil
}

// DigestEntry is one mail of a digest as its template shows it.
type DigestEntry struct {
	// N numbers it from 1.
	N int
	// When is the time of the event in Hungarian ("november 22. 10:44").
	When    string
	Subject string
	// Paragraphs are its body's paragraphs.
	Paragraphs []string
}

// RenderDigest renders the Hungarian digest of items (oldest first) for
// the customer data names; times are shown in d's zone.
func (t *Templates) RenderDigest(items []hub.DigestItem, data *MailData, d *Dispatcher) (*Rendered, error) {
	data.EventType = digestTemplate
	data.Severity = hub.SeverityInfo
	for i, it := range items {
		at := it.At.In(d.Location)
		if i == 0 {
			data.When = at
		}
		data.DigestUntil = at
		entry := DigestEntry{N: i + 1, When: fmt.Sprintf("%s %d. %02d:%02d", hungarianMonths[at.Month()-1], at.Day(), at.Hour(), at.Minute()),
			Subject: it.Subject}
		for _, para := range strings.Split(it.Body, "\n\n") {
			if para = strings.TrimSpace(para); para != "" {
				entry.Paragraphs = append(entry.Paragraphs, para)
			}
		}
		data.Digest = append(data.Digest, entry)
	}
	return t.Render(Hungarian, digestTemplate, data)
}

// DigestSpanHungarian is when the digest's events happened, such as
// "2026. november 22. 10:42 és 10:47 között" (one time when all are in one
// minute).
func (d *MailData) DigestSpanHungarian() string {
	from, until := d.When, d.DigestUntil
	if until.Sub(from) < time.Minute && until.Minute() == from.Minute() {
		return d.WhenHungarian()
	}
	if from.YearDay() == until.YearDay() && from.Year() == until.Year() {
		return fmt.Sprintf("%s és %02d:%02d között", d.WhenHungarian(), until.Hour(), until.Minute())
	}
	end := &MailData{When: until}
	return fmt.Sprintf("%s és %s között", d.WhenHungarian(), end.WhenHungarian())
}

// DetailList returns a detail that is a list, as short plain texts.
func (d *MailData) DetailList(key string) []string {
	list, _ := d.Details[key].([]any)
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, headerText(truncate(s, 120)))
		}
	}
	return out
}
