package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	hub "github.com/felhom/hub"
	qrcode "github.com/piglig/go-qr"
	"golang.org/x/crypto/bcrypt"
)

// AccountPage is the operator's own account: password, second factor and
// sessions.
type AccountPage struct {
	Page
	Name, Role    string
	Builtin       bool
	TOTP          bool
	RecoveryLeft  int
	RequireTOTP   bool
	Sessions      []SessionView
	PasswordError string
	// Enrolment is set while the second factor is being set up;
	// RecoveryCodes right after, shown once.
	Enrolment     *EnrolmentView
	RecoveryCodes []string
}

// SessionView is one session in the account's list.
type SessionView struct {
	Hash                     string
	Created, LastSeen, Where string
	Current                  bool
}

// EnrolmentView is the QR code and the secret of a second factor being set up.
type EnrolmentView struct {
	QR     template.HTML
	Secret string
	Error  string
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) (*AccountPage, error) {
	op := operatorOf(r.Context())
	if op == nil {
		return nil, hub.Errorf(hub.ENOTFOUND, "The login is disabled: there is no account. Add one with: hub user add NAME --role admin")
	}
	p := &AccountPage{Page: s.page(w, r, "Your account", "account"), Name: op.Name, Role: string(op.Role),
		Builtin: op.Builtin, TOTP: op.TOTPEnabled(), RequireTOTP: s.RequireTOTP}
	var err error
	if p.TOTP {
		if p.RecoveryLeft, err = s.Operators.CountRecoveryCodes(r.Context(), op.Name); err != nil {
			return nil, err
		}
	}
	sessions, err := s.Sessions.FindOperatorSessions(r.Context(), op.Name)
	if err != nil {
		return nil, err
	}
	current := sessionOf(r.Context())
	now := s.Now()
	for _, sess := range sessions {
		if sess.Expired(now) {
			continue
		}
		p.Sessions = append(p.Sessions, SessionView{Hash: sess.TokenHash,
			Created: s.formatTime(sess.CreatedAt), LastSeen: s.formatTime(sess.LastSeenAt), Where: sess.Address,
			Current: current != nil && current.TokenHash == sess.TokenHash})
	}
	return p, nil
}

func (s *Server) formatTime(t time.Time) string {
	return t.In(s.Location).Format("2006-01-02 15:04")
}

func (s *Server) handleAccountShow(w http.ResponseWriter, r *http.Request) {
	p, err := s.accountPage(w, r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "account", "", p)
}

func (s *Server) handleAccountPassword(w http.ResponseWriter, r *http.Request) {
	op := operatorOf(r.Context())
	if err := parseForm(w, r); err != nil || op == nil {
		s.renderError(w, r, hub.Errorf(hub.EINVALID, "The form could not be read."))
		return
	}
	fail := func(msg string) {
		p, err := s.accountPage(w, r)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		p.PasswordError = msg
		s.render(w, r, http.StatusBadRequest, "account", "", p)
	}
	if op.Builtin {
		fail("The password of admin is auth.password_hash in the hub's config: change it there.")
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(op.PasswordHash), []byte(r.PostForm.Get("current"))) != nil {
		fail("The current password is wrong.")
		return
	}
	next := r.PostForm.Get("new")
	if next != r.PostForm.Get("again") {
		fail("The new passwords differ.")
		return
	}
	if err := hub.ValidatePassword(next); err != nil {
		fail(hub.ErrorMessage(err))
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(next), bcryptCost)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	keep := ""
	if sess := sessionOf(r.Context()); sess != nil {
		keep = sess.TokenHash
	}
	if err := s.Operators.SetOperatorPassword(r.Context(), op.Name, string(hash), keep); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.auditLogin(r.Context(), op.Name, "operator.password", hub.AuditOK, "changed on the dashboard; other sessions ended")
	s.redirectWithFlash(w, r, "/account", "ok", "Password changed. Your other sessions have ended.")
}

// bcryptCost is the work factor of passwords set on the dashboard.
const bcryptCost = 12

func (s *Server) handleAccountSessionRevoke(w http.ResponseWriter, r *http.Request) {
	op := operatorOf(r.Context())
	if err := parseForm(w, r); err != nil || op == nil {
		s.renderError(w, r, hub.Errorf(hub.EINVALID, "The form could not be read."))
		return
	}
	hash := r.PostForm.Get("session")
	if err := s.Sessions.DeleteOperatorSession(r.Context(), op.Name, hash); err != nil {
		s.renderError(w, r, err)
		return
	}
	if sess := sessionOf(r.Context()); sess != nil && sess.TokenHash == hash {
		s.clearSessionCookie(w, r)
		s.redirectWithFlash(w, r, "/login", "ok", "That was this session: you are logged out.")
		return
	}
	s.redirectWithFlash(w, r, "/account", "ok", "Session ended.")
}

// handleTOTPStart shows a new secret as a QR code. The secret travels in
// the confirm form: nothing is stored until a code from it is entered.
func (s *Server) handleTOTPStart(w http.ResponseWriter, r *http.Request) {
	s.renderEnrolment(w, r, hub.NewTOTPSecret(), "", http.StatusOK)
}

func (s *Server) renderEnrolment(w http.ResponseWriter, r *http.Request, secret []byte, msg string, status int) {
	p, err := s.accountPage(w, r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	qr, err := qrSVG(hub.TOTPURI("felhom hub", p.Name, secret))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p.Enrolment = &EnrolmentView{QR: qr, Secret: hub.TOTPSecretText(secret), Error: msg}
	s.render(w, r, status, "account", "", p)
}

func (s *Server) handleTOTPConfirm(w http.ResponseWriter, r *http.Request) {
	op := operatorOf(r.Context())
	if err := parseForm(w, r); err != nil || op == nil {
		s.renderError(w, r, hub.Errorf(hub.EINVALID, "The form could not be read."))
		return
	}
	secret, err := hub.ParseTOTPSecretText(r.PostForm.Get("secret"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	step, ok := hub.MatchTOTP(secret, r.PostForm.Get("code"), s.Now())
	if !ok {
		s.renderEnrolment(w, r, secret, "That code does not match. Check the phone's clock and enter the code shown now.", http.StatusBadRequest)
		return
	}
	codes := make([]string, hub.RecoveryCodeCount)
	hashes := make([]string, hub.RecoveryCodeCount)
	for i := range codes {
		codes[i] = hub.NewRecoveryCode()
		hashes[i] = hub.HashSecret(codes[i])
	}
	if err := s.Operators.EnrollTOTP(r.Context(), op.Name, secret, hashes); err != nil {
		s.renderError(w, r, err)
		return
	}
	// The code just entered is spent: it cannot log in a second time.
	if _, err := s.Operators.UseTOTPStep(r.Context(), op.Name, step); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.auditLogin(r.Context(), op.Name, "operator.totp_enable", hub.AuditOK, "")
	op.TOTPSecret = secret
	p, err := s.accountPage(w, r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	p.TOTP, p.RecoveryLeft, p.RecoveryCodes = true, len(codes), codes
	p.Flash = &Flash{Kind: "ok", Message: "Two-factor login is on. Keep the recovery codes below somewhere safe: they are shown only now."}
	s.render(w, r, http.StatusOK, "account", "", p)
}

func (s *Server) handleTOTPDisable(w http.ResponseWriter, r *http.Request) {
	op := operatorOf(r.Context())
	if op == nil {
		s.renderError(w, r, hub.Errorf(hub.ENOTFOUND, "No account."))
		return
	}
	if s.RequireTOTP {
		s.renderError(w, r, hub.Errorf(hub.EFORBIDDEN, "This hub requires two-factor login (auth.require_totp)."))
		return
	}
	if err := s.Operators.DisableTOTP(r.Context(), op.Name); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.auditLogin(r.Context(), op.Name, "operator.totp_disable", hub.AuditOK, "")
	s.redirectWithFlash(w, r, "/account", "ok", "Two-factor login is off.")
}

// qrSVG renders text as a QR code in inline SVG: one path of unit squares,
// no script, no style, nothing fetched from elsewhere (the CSP allows
// inline SVG markup, not inline styles).
func qrSVG(text string) (template.HTML, error) {
	qr, err := qrcode.EncodeText(text, qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	const quiet = 4
	n := qr.Size()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="232" height="232" role="img" aria-label="QR code for the authenticator app" id="totp-qr" shape-rendering="crispEdges">`, n+2*quiet, n+2*quiet)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n+2*quiet, n+2*quiet)
	for y := range n {
		for x := range n {
			if qr.Module(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil // only numbers and fixed markup
}
