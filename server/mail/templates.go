package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
)

// Kind names a transactional email; templates/<kind>.txt.tmpl and
// templates/<kind>.html.tmpl hold its bodies. The text template also defines
// the "subject" template.
type Kind string

const (
	KindPasswordReset Kind = "password_reset"
	KindInvitation    Kind = "invitation"
)

// TemplateData is what the templates may show. Code and Link are optional
// (left out when empty); ExpiresIn is rendered human-readably ("15 minutes",
// "2 hours", "7 days") and left out when zero.
type TemplateData struct {
	AccountName  string
	CustomerName string
	Code         string
	Link         string
	ExpiresIn    time.Duration
}

//go:embed templates/*.tmpl
var templateFS embed.FS

type kindTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

var templates = mustParseTemplates(KindPasswordReset, KindInvitation)

func mustParseTemplates(kinds ...Kind) map[Kind]kindTemplates {
	m := make(map[Kind]kindTemplates, len(kinds))
	for _, k := range kinds {
		txt := texttemplate.Must(texttemplate.New(string(k)+".txt.tmpl").Option("missingkey=error").
			ParseFS(templateFS, "templates/"+string(k)+".txt.tmpl"))
		if txt.Lookup("subject") == nil {
			panic("mail: templates/" + string(k) + ".txt.tmpl does not define \"subject\"")
		}
		html := htmltemplate.Must(htmltemplate.New(string(k)+".html.tmpl").Option("missingkey=error").
			ParseFS(templateFS, "templates/"+string(k)+".html.tmpl"))
		m[k] = kindTemplates{text: txt, html: html}
	}
	return m
}

// templateView is the value the templates are executed with.
type templateView struct {
	TemplateData
	// Expires is ExpiresIn in words, "" when ExpiresIn <= 0.
	Expires string
	// Subject is the rendered subject line (HTML <title>).
	Subject string
}

// Render renders the subject, text and HTML bodies of a kind of email.
func Render(kind Kind, d TemplateData) (subject, text, html string, err error) {
	t, ok := templates[kind]
	if !ok {
		return "", "", "", fmt.Errorf("mail: unknown template kind %q", kind)
	}
	v := templateView{TemplateData: d, Expires: humanDuration(d.ExpiresIn)}

	var b bytes.Buffer
	if err := t.text.ExecuteTemplate(&b, "subject", v); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s subject: %w", kind, err)
	}
	v.Subject = oneLine(b.String())

	b.Reset()
	if err := t.text.Execute(&b, v); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s text: %w", kind, err)
	}
	text = strings.TrimSpace(b.String()) + "\n"

	b.Reset()
	if err := t.html.Execute(&b, v); err != nil {
		return "", "", "", fmt.Errorf("mail: render %s html: %w", kind, err)
	}
	return v.Subject, text, b.String(), nil
}

// humanDuration renders d as "1 minute", "15 minutes", "1 hour",
// "1 hour 30 minutes", "2 days"; partial minutes round up.
func humanDuration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	minutes := int64((d + time.Minute - 1) / time.Minute)
	days, hours, mins := minutes/(24*60), minutes/60%24, minutes%60
	var parts []string
	if days > 0 && mins == 0 {
		parts = append(parts, plural(days, "day"))
		if hours > 0 {
			parts = append(parts, plural(hours, "hour"))
		}
		return strings.Join(parts, " ")
	}
	hours += days * 24
	if hours > 0 {
		parts = append(parts, plural(hours, "hour"))
	}
	if mins > 0 {
		parts = append(parts, plural(mins, "minute"))
	}
	return strings.Join(parts, " ")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}
