package notify

import (
	"bytes"
	"embed"
	"fmt"
	htemplate "html/template"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	ttemplate "text/template"
	"time"
	_ "time/tzdata" // Europe/Budapest must resolve on a host without tz data
	"unicode"
)

// Languages of the templates: the operator reads English, customers
// Hungarian.
const (
	English   = "en"
	Hungarian = "hu"
)

// Template names that are not event types: the legacy relay (English
// only) and the fallback for a type with no template of its own.
const (
	relayTemplate   = "relay"
	genericTemplate = "generic"
)

//go:embed templates/*.tmpl templates/en/*.tmpl templates/hu/*.tmpl
var templateFS embed.FS

// Templates are the embedded mail templates, parsed once. Each event type
// has templates/<lang>/<type>.tmpl defining "subject" and "body"; the
// per-language partials (_text.tmpl, _html.tmpl) wrap them into the whole
// subject, the plain text and, with templates/layout.html.tmpl, the HTML.
type Templates struct {
	text map[string]*ttemplate.Template
	html map[string]*htemplate.Template
}

// Rendered is a rendered mail.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// ParseTemplates parses every embedded template.
func ParseTemplates() (*Templates, error) {
	t := &Templates{text: map[string]*ttemplate.Template{}, html: map[string]*htemplate.Template{}}
	layout, err := htemplate.ParseFS(templateFS, "templates/layout.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse mail layout: %w", err)
	}
	for _, lang := range []string{English, Hungarian} {
		dir := "templates/" + lang
		textBase, err := ttemplate.ParseFS(templateFS, dir+"/_text.tmpl")
		if err != nil {
			return nil, fmt.Errorf("parse %s text layout: %w", lang, err)
		}
		htmlBase, err := htemplate.Must(layout.Clone()).ParseFS(templateFS, dir+"/_html.tmpl")
		if err != nil {
			return nil, fmt.Errorf("parse %s html layout: %w", lang, err)
		}
		entries, err := fs.ReadDir(templateFS, dir)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), ".tmpl")
			if !ok || strings.HasPrefix(name, "_") {
				continue
			}
			src, err := fs.ReadFile(templateFS, dir+"/"+e.Name())
			if err != nil {
				return nil, err
			}
			key := lang + "/" + name
			tt, err := ttemplate.Must(textBase.Clone()).New(name).Parse(string(src))
			if err != nil {
				return nil, fmt.Errorf("parse %s: %w", key, err)
			}
			ht, err := htemplate.Must(htmlBase.Clone()).New(name).Parse(string(src))
			if err != nil {
				return nil, fmt.Errorf("parse %s as HTML: %w", key, err)
			}
			if tt.Lookup("subject") == nil || tt.Lookup("body") == nil {
				return nil, fmt.Errorf("template %s must define subject and body", key)
			}
			t.text[key], t.html[key] = tt, ht
		}
	}
	return t, nil
}

// Has reports whether lang has a template of its own for name.
func (t *Templates) Has(lang, name string) bool {
	_, ok := t.text[lang+"/"+name]
	return ok
}

// Names returns the template names of lang, partials excluded.
func (t *Templates) Names(lang string) []string {
	var out []string
	for key := range t.text {
		if name, ok := strings.CutPrefix(key, lang+"/"); ok {
			out = append(out, name)
		}
	}
	return out
}

// Render renders the template name of lang with data, falling back to the
// generic template when name has none.
func (t *Templates) Render(lang, name string, data *MailData) (*Rendered, error) {
	key := lang + "/" + name
	tt, ht := t.text[key], t.html[key]
	if tt == nil {
		key = lang + "/" + genericTemplate
		tt, ht = t.text[key], t.html[key]
		if tt == nil {
			return nil, fmt.Errorf("no %s mail template for %s", lang, name)
		}
	}
	var subject, text, body, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subject, "fullsubject", data); err != nil {
		return nil, fmt.Errorf("render %s subject: %w", key, err)
	}
	if err := tt.ExecuteTemplate(&text, "text", data); err != nil {
		return nil, fmt.Errorf("render %s text: %w", key, err)
	}
	if err := ht.ExecuteTemplate(&body, "body", data); err != nil {
		return nil, fmt.Errorf("render %s html body: %w", key, err)
	}
	r := &Rendered{Subject: headerText(subject.String()), Text: tidyText(text.String())}
	page := htmlPage{MailData: data, Lang: lang, Subject: r.Subject, BodyHTML: paragraphs(body.String())}
	if err := ht.ExecuteTemplate(&html, "html", page); err != nil {
		return nil, fmt.Errorf("render %s html: %w", key, err)
	}
	r.HTML = html.String()
	return r, nil
}

// htmlPage is what the HTML layout renders.
type htmlPage struct {
	*MailData
	Lang     string
	Subject  string
	BodyHTML htemplate.HTML
}

// paragraphs turns an HTML-escaped body with blank-line-separated
// paragraphs into <p> elements. It only adds tags, so it stays safe.
func paragraphs(escaped string) htemplate.HTML {
	var b strings.Builder
	for _, p := range strings.Split(strings.TrimSpace(escaped), "\n\n") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		b.WriteString(`<p style="margin:0 0 14px 0">`)
		b.WriteString(strings.ReplaceAll(p, "\n", "<br>\n"))
		b.WriteString("</p>\n")
	}
	return htemplate.HTML(b.String())
}

var blankLines = regexp.MustCompile(`\n{3,}`)

// tidyText trims trailing spaces and collapses runs of blank lines.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return strings.TrimSpace(blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")) + "\n"
}

// headerText makes s one line without control characters, at most 250
// characters, for a mail header.
func headerText(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if r := []rune(s); len(r) > 250 {
		s = string(r[:249]) + "…"
	}
	return s
}

// MailData is what a mail template reads.
type MailData struct {
	CustomerID   string
	CustomerName string
	// Node is the hostname of the node or host the event is about.
	Node      string
	EventType string
	Severity  string
	// Message is the event's message (or the relayed message), as sent.
	Message string
	// When is when it happened, in the hub's zone.
	When time.Time
	// DashboardURL is the customer's dashboard page; empty when the hub's
	// public URL is not configured.
	DashboardURL string
	// RelaySubject is the subject of a legacy relayed message.
	RelaySubject string
	Details      map[string]any
	// Controller is the controller that is unreachable with the host a
	// host mail is about; empty otherwise.
	Controller string
	// Digest lists the mails a customer digest holds, oldest first;
	// DigestUntil is the time of the last (When is the first's).
	Digest      []DigestEntry
	DigestUntil time.Time
}

// SeverityLabel is the severity in capitals, for subjects.
func (d *MailData) SeverityLabel() string { return strings.ToUpper(d.Severity) }

// WhenEnglish formats When as "Sun 22 Nov 2026 10:44 CET".
func (d *MailData) WhenEnglish() string { return d.When.Format("Mon 2 Jan 2006 15:04 MST") }

var hungarianMonths = [...]string{"január", "február", "március", "április", "május", "június",
	"július", "augusztus", "szeptember", "október", "november", "december"}

// WhenHungarian formats When as "2026. november 22. 10:44".
func (d *MailData) WhenHungarian() string {
	t := d.When
	return fmt.Sprintf("%d. %s %d. %02d:%02d", t.Year(), hungarianMonths[t.Month()-1], t.Day(), t.Hour(), t.Minute())
}

// Detail returns a detail of the event as short plain text: a string, or a
// number; "" when absent or of another kind.
func (d *MailData) Detail(key string) string {
	switch v := d.Details[key].(type) {
	case string:
		return headerText(truncate(v, 120))
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// Percent returns a numeric detail rounded to a whole number, or "" when
// absent or out of 0..100.
func (d *MailData) Percent(key string) string {
	v, ok := d.Details[key].(float64)
	if !ok || v < 0 || v > 100 {
		return ""
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// App returns the name of the app the event is about, or "".
func (d *MailData) App() string {
	for _, k := range []string{"app_name", "app", "display_name"} {
		if v := d.Detail(k); v != "" {
			return v
		}
	}
	return ""
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
