package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	hub "github.com/felhom/hub"
	"golang.org/x/crypto/bcrypt"
)

// access is what a dashboard route needs (SPEC §7.5).
type access int

const (
	// accessPublic needs nothing: the login page, the assets.
	accessPublic access = iota
	// accessOperator needs a login of any role: every page, and the
	// operator's own account (password, second factor, sessions, logout).
	accessOperator
	// accessAdmin needs an admin: every action on the fleet and on other
	// operators. A viewer gets 403 whatever the form says.
	accessAdmin
)

func (a access) String() string {
	return [...]string{"public", "operator", "admin"}[a]
}

// Route is one entry of the dashboard's route table: the route table test
// calls each with every role.
type Route struct {
	Pattern string
	Access  access
	handler http.HandlerFunc
}

// Needs names what the route needs: "public", "operator" or "admin".
func (rt Route) Needs() string { return rt.Access.String() }

// Routes is the dashboard's route table: every route declares what it
// needs, and guard enforces it in one place.
func (s *Server) Routes() []Route {
	return []Route{
		{"GET /static/{name...}", accessPublic, s.handleStatic},
		{"GET /login", accessPublic, s.handleLoginShow},
		{"POST /login", accessPublic, s.handleLoginCreate},
		{"GET /logout", accessOperator, s.handleLogoutConfirm},
		{"POST /logout", accessOperator, s.handleLogout},

		{"GET /{$}", accessOperator, s.handleDashboard},
		{"GET /fleet", accessOperator, s.handleFleetFragment},

		{"GET /configs", accessOperator, s.handleCustomerList},
		{"GET /configs/new", accessAdmin, s.handleConfigNew},
		{"POST /configs", accessAdmin, s.handleConfigCreate},
		{"GET /configs/{id}/edit", accessAdmin, s.handleConfigEdit},
		{"POST /configs/{id}", accessAdmin, s.handleConfigUpdate},

		{"GET /customers/{id}", accessOperator, s.handleCustomerShow},
		{"GET /customers/{id}/history", accessOperator, s.handleHistoryFragment},
		{"GET /customers/{id}/events", accessOperator, s.handleEventsFragment},
		{"POST /customers/{id}/create-config", accessAdmin, s.handleCustomerCreateConfig},
		{"POST /customers/{id}/block", accessAdmin, s.handleCustomerBlock},
		{"POST /customers/{id}/unblock", accessAdmin, s.handleCustomerUnblock},
		{"POST /customers/{id}/rotate-key", accessAdmin, s.handleCustomerRotateKey},
		{"POST /customers/{id}/rotate-retrieval-password", accessAdmin, s.handleCustomerRotateRetrievalPassword},
		{"POST /customers/{id}/delete", accessAdmin, s.handleCustomerDelete},

		// Controller calls: 404 until Plugs.Controller is set.
		{"POST /customers/{id}/push-config", accessAdmin, s.handleControllerPush},
		{"POST /customers/{id}/pull-config", accessAdmin, s.handleControllerPull},
		{"POST /customers/{id}/diff", accessAdmin, s.handleControllerDiff},
		{"POST /customers/{id}/update", accessAdmin, s.handleControllerUpdate},

		// The operator's own account.
		{"GET /account", accessOperator, s.handleAccountShow},
		{"POST /account/password", accessOperator, s.handleAccountPassword},
		{"POST /account/sessions/revoke", accessOperator, s.handleAccountSessionRevoke},
		{"POST /account/totp/start", accessOperator, s.handleTOTPStart},
		{"POST /account/totp/confirm", accessOperator, s.handleTOTPConfirm},
		{"POST /account/totp/disable", accessOperator, s.handleTOTPDisable},

		// Operators and API tokens: admins only.
		{"GET /users", accessAdmin, s.handleUsersShow},
		{"POST /users", accessAdmin, s.handleUserCreate},
		{"POST /users/{name}/remove", accessAdmin, s.handleUserRemove},
		{"POST /users/{name}/role", accessAdmin, s.handleUserRole},
		{"POST /tokens", accessAdmin, s.handleTokenCreate},
		{"POST /tokens/{token_id}/revoke", accessAdmin, s.handleTokenRevoke},

		// Alert noise control: silences and acknowledgements.
		{"GET /alerts", accessOperator, s.handleAlerts},
		{"GET /silences", accessOperator, s.handleSilences},
		{"POST /silences", accessAdmin, s.handleSilenceCreate},
		{"POST /silences/{silence_id}/end", accessAdmin, s.handleSilenceEnd},
		{"POST /customers/{id}/ack", accessAdmin, s.handleCustomerAck},

		// Disaster-recovery readiness and single-use recovery links.
		{"GET /dr", accessOperator, s.handleDRPage},
		{"POST /customers/{id}/recovery-link", accessAdmin, s.handleRecoveryLinkCreate},

		{"/", accessOperator, s.handleNotFound},
	}
}

// guard wraps a route's handler with what its entry needs.
func (s *Server) guard(rt Route) http.HandlerFunc {
	switch rt.Access {
	case accessPublic:
		return rt.handler
	case accessAdmin:
		return s.requireRole(hub.RoleAdmin, rt.handler)
	}
	return s.requireLogin(rt.handler)
}

// operatorKey holds the logged-in operator in a request's context.
type operatorKey struct{}

// operatorOf returns the logged-in operator; nil when the login is
// disabled (no account exists: everyone acts as an admin, with a banner).
func operatorOf(ctx context.Context) *hub.Operator {
	o, _ := ctx.Value(operatorKey{}).(*hub.Operator)
	return o
}

// canAct reports whether the request may change the fleet.
func canAct(ctx context.Context) bool {
	o := operatorOf(ctx)
	return isLoggedIn(ctx) && (o == nil || o.Role == hub.RoleAdmin)
}

// authEnabled reports whether any operator account exists (the built-in
// admin of auth.password_hash included). Without one the dashboard is
// open, and every page says so; the hub refuses to start that way on a
// non-loopback address unless auth.disabled is set.
func (s *Server) authEnabled(ctx context.Context) bool {
	n, err := s.Operators.CountOperators(ctx)
	if err != nil {
		s.Logger.Error("count operators; the login stays on", slog.Any("error", err))
		return true
	}
	return n > 0
}

// sessionTouchEvery is how often a session's last request is written: its
// expiry slides by at most this much less than session_ttl.
const sessionTouchEvery = time.Minute

// requireLogin lets the request through with a valid session and sends the
// browser to the login page otherwise. A viewer's state change is refused
// here too: a route added with requireLogin alone stays read-only for
// viewers. With auth.require_totp an operator without a second factor
// sees only the page that sets one up.
func (s *Server) requireLogin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if !s.authEnabled(ctx) {
			next(w, r.WithContext(withActor(ctx, actorNoLogin)))
			return
		}
		sess, op, err := s.validSession(r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if op == nil {
			s.clearSessionCookie(w, r)
			s.loginAgain(w, r)
			return
		}
		if s.touchSession(r, sess) {
			// The cookie's lifetime slides with the session's.
			if c, err := r.Cookie(sessionCookie); err == nil {
				s.setSessionCookie(w, r, c.Value)
			}
		}
		actor := "operator:" + op.Name
		ctx = context.WithValue(withActor(ctx, actor), operatorKey{}, op)
		ctx = context.WithValue(ctx, sessionKey{}, sess)
		ctx = hub.WithActor(ctx, actor)
		if s.RequireTOTP && !op.TOTPEnabled() && !totpSetupPath(r) {
			if r.Method == http.MethodGet {
				s.redirectWithFlash(w, r, "/account", "error", "This hub requires two-factor login: set it up before anything else.")
				return
			}
			s.renderError(w, r.WithContext(ctx), hub.Errorf(hub.EFORBIDDEN, "This hub requires two-factor login: set it up on your account page first."))
			return
		}
		if !safeMethod(r.Method) && op.Role != hub.RoleAdmin && !selfService(r) {
			s.renderError(w, r.WithContext(ctx), hub.Errorf(hub.EFORBIDDEN, "A viewer cannot change anything."))
			return
		}
		next(w, r.WithContext(ctx))
	}
}

// requireRole is requireLogin for routes that need role.
func (s *Server) requireRole(role hub.Role, next http.HandlerFunc) http.HandlerFunc {
	return s.requireLogin(func(w http.ResponseWriter, r *http.Request) {
		if op := operatorOf(r.Context()); op != nil && !op.Role.Allows(role) {
			s.renderError(w, r, hub.Errorf(hub.EFORBIDDEN, "This needs an admin; you are logged in as a viewer."))
			return
		}
		next(w, r)
	})
}

type sessionKey struct{}

// sessionOf returns the request's session; nil without a login.
func sessionOf(ctx context.Context) *hub.Session {
	sess, _ := ctx.Value(sessionKey{}).(*hub.Session)
	return sess
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// selfService reports whether r changes only its own operator's account,
// which a viewer may do.
func selfService(r *http.Request) bool {
	return r.URL.Path == "/logout" || strings.HasPrefix(r.URL.Path, "/account/")
}

// totpSetupPath reports whether r is part of setting up the second factor
// (or leaving), which require_totp lets through.
func totpSetupPath(r *http.Request) bool {
	p := r.URL.Path
	return p == "/account" || p == "/account/totp/start" || p == "/account/totp/confirm" || p == "/logout"
}

// validSession returns the live session the request's cookie names and
// its operator; nils when there is none. A session of an account that no
// longer exists, or from before accounts existed, is no session.
func (s *Server) validSession(r *http.Request) (*hub.Session, *hub.Operator, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil, nil
	}
	sess, err := s.Sessions.FindSessionByTokenHash(r.Context(), hub.HashSecret(c.Value))
	switch {
	case hub.ErrorCode(err) == hub.ENOTFOUND:
		return nil, nil, nil
	case err != nil:
		return nil, nil, err
	}
	if sess.Expired(s.Now()) || sess.Operator == "" {
		return nil, nil, nil
	}
	op, err := s.Operators.FindOperator(r.Context(), sess.Operator)
	switch {
	case hub.ErrorCode(err) == hub.ENOTFOUND:
		return nil, nil, nil
	case err != nil:
		return nil, nil, err
	}
	return sess, op, nil
}

// SessionOperator resolves the request's session for the API
// (api.SessionAuthenticator).
func (s *Server) SessionOperator(r *http.Request) (*hub.Operator, error) {
	sess, op, err := s.validSession(r)
	if err != nil {
		return nil, err
	}
	if op == nil || (s.RequireTOTP && !op.TOTPEnabled()) {
		return nil, hub.Errorf(hub.EUNAUTHORIZED, "no session")
	}
	s.touchSession(r, sess)
	return op, nil
}

// touchSession slides the session's expiry (auth.session_ttl of
// inactivity) and records where it was last seen, at most once a minute;
// it reports whether it did.
func (s *Server) touchSession(r *http.Request, sess *hub.Session) bool {
	now := s.Now()
	if now.Sub(sess.LastSeenAt) < sessionTouchEvery {
		return false
	}
	address := s.clientAddress(r)
	if err := s.Sessions.TouchSession(context.WithoutCancel(r.Context()), sess.TokenHash, now.UTC(), now.Add(s.SessionTTL).UTC(), address); err != nil {
		s.Logger.Error("session not touched", slog.Any("error", err))
		return false
	}
	return true
}

func (s *Server) clientAddress(r *http.Request) string {
	return hub.ClientKey(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), s.TrustedProxies)
}

// The audit log's actors for dashboard actions: "operator:" and the
// account's name; "dashboard" alone when the login is disabled.
const actorNoLogin = "dashboard"

// loginAgain answers a request without a valid session: a page request
// goes to /login and comes back after; a form posted after the session
// expired is kept, and sent again after the login (the resume page); an
// htmx request makes htmx load the login page.
func (s *Server) loginAgain(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", "/login")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.Method == http.MethodPost && isSiteLocalPath(r.URL.Path) {
		if err := parseForm(w, r); err == nil {
			page := s.loginPage(w, r, "")
			page.Error = "Your session has expired. Log in again: what you sent is kept and goes through after the login."
			page.ResumeAction = r.URL.Path
			page.ResumeFields = formFields(r.PostForm)
			s.render(w, r, http.StatusUnauthorized, "login", "", page)
			return
		}
	}
	to := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		to += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// FormField is one field of a form kept across a login.
type FormField struct{ Name, Value string }

// resumePrefix marks the kept fields in the login form.
const resumePrefix = "resume:"

func formFields(form url.Values) []FormField {
	var out []FormField
	names := make([]string, 0, len(form))
	for name := range form {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range form[name] {
			out = append(out, FormField{Name: name, Value: v})
		}
	}
	return out
}

// LoginPage is the login form.
type LoginPage struct {
	Page
	Next  string
	Error string
	// Username is kept when the login failed; AskCode shows the code
	// field first (two-factor accounts).
	Username string
	AskCode  bool
	// ResumeAction and ResumeFields are a form that was posted after the
	// session expired, sent again after the login.
	ResumeAction string
	ResumeFields []FormField
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, next string) *LoginPage {
	return &LoginPage{Page: s.page(w, r, "Log in", ""), Next: safeNext(next)}
}

func (s *Server) handleLoginShow(w http.ResponseWriter, r *http.Request) {
	if !s.authEnabled(r.Context()) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if _, op, err := s.validSession(r); err == nil && op != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", "", s.loginPage(w, r, r.URL.Query().Get("next")))
}

// loginFailure is why a login was refused; the page says no more than
// "wrong name, password or code" so that names cannot be probed.
const loginFailed = "Wrong name, password or code."

func (s *Server) handleLoginCreate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !s.authEnabled(ctx) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if err := parseForm(w, r); err != nil {
		s.renderError(w, r, err)
		return
	}
	f := r.PostForm
	name := strings.ToLower(strings.TrimSpace(f.Get("username")))
	if name == "" {
		name = hub.BuiltinOperator // the one-password login of before accounts
	}
	page := s.loginPage(w, r, f.Get("next"))
	page.Username = name
	page.ResumeAction = f.Get("resume_action")
	for _, field := range formFields(f) {
		if n, ok := strings.CutPrefix(field.Name, resumePrefix); ok {
			page.ResumeFields = append(page.ResumeFields, FormField{Name: n, Value: field.Value})
		}
	}
	address := s.clientAddress(r)
	account := name
	if hub.ValidateOperatorName(name) != nil {
		account = "-invalid-"
	}
	// One event is taken before the password is checked, atomically with
	// the check of the limits, so that guesses sent all at once cannot
	// pass the burst; a successful login gives it back: only failures
	// count, and the operator's own logins never lock them out.
	allowed, err := s.RateLimits.TakeRateLimitEvents(ctx, loginLimits(address, account)...)
	if err != nil || !allowed {
		if err != nil {
			s.Logger.Error("login throttle cannot be checked; attempt refused", "remote", address, slog.Any("error", err))
		}
		s.Logger.Warn("login throttled", "remote", address)
		w.Header().Set("Retry-After", "60")
		page.Error = "Too many failed logins. Wait a minute, then try again."
		s.render(w, r, http.StatusTooManyRequests, "login", "", page)
		return
	}
	op, reason := s.checkLogin(ctx, name, f.Get("password"), f.Get("code"))
	if op == nil {
		s.Logger.Warn("login failed", "remote", address, "reason", reason)
		s.auditLogin(ctx, account, "login.failed", hub.AuditError, reason+" from "+address)
		page.Error = loginFailed
		page.AskCode = reason == "code missing"
		if page.AskCode {
			page.Error = "Enter the code from your authenticator app (or a recovery code)."
		}
		s.render(w, r, http.StatusUnauthorized, "login", "", page)
		return
	}
	if err := s.RateLimits.RefundRateLimitEvents(ctx, loginLimits(address, account)...); err != nil {
		s.Logger.Error("login not refunded to the throttle", slog.Any("error", err))
	}
	// A fresh token at every login: a token planted before the login
	// (session fixation) never becomes a logged-in session.
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.Sessions.DeleteSession(ctx, hub.HashSecret(c.Value)); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	token, err := s.createSession(ctx, op.Name, address)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.setSessionCookie(w, r, token)
	if n, err := s.Sessions.DeleteExpiredSessions(ctx, s.Now()); err != nil {
		s.Logger.Error("delete expired sessions", slog.Any("error", err))
	} else if n > 0 {
		s.Logger.Info("expired sessions deleted", "count", n)
	}
	s.Logger.Info("login", "remote", address, "operator", op.Name)
	s.auditLogin(ctx, op.Name, "login", hub.AuditOK, "from "+address+reasonSuffix(reason))
	if page.ResumeAction != "" && isSiteLocalPath(page.ResumeAction) {
		s.render(w, r, http.StatusOK, "resume", "", &ResumePage{Page: s.page(w, r.WithContext(withActor(ctx, "operator:"+op.Name)), "Send again", ""),
			Action: page.ResumeAction, Fields: page.ResumeFields})
		return
	}
	http.Redirect(w, r, safeNext(page.Next), http.StatusSeeOther)
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

// ResumePage offers to send a form again that was posted after its
// session had expired.
type ResumePage struct {
	Page
	Action string
	Fields []FormField
}

// dummyHash is compared against when the account does not exist, so that
// a missing account takes as long as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such account, no such password"), bcrypt.MinCost)

// checkLogin returns the operator the name, password and code log in as,
// or nil and why not (for the log and the audit, never the page).
func (s *Server) checkLogin(ctx context.Context, name, password, code string) (*hub.Operator, string) {
	op, err := s.Operators.FindOperator(ctx, name)
	if err != nil {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, "no such account"
	}
	if bcrypt.CompareHashAndPassword([]byte(op.PasswordHash), []byte(password)) != nil {
		return nil, "wrong password"
	}
	if !op.TOTPEnabled() {
		return op, ""
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return nil, "code missing"
	}
	if step, ok := hub.MatchTOTP(op.TOTPSecret, code, s.Now()); ok {
		fresh, err := s.Operators.UseTOTPStep(ctx, op.Name, step)
		if err != nil || !fresh {
			return nil, "code used before"
		}
		return op, ""
	}
	ok, err := s.Operators.UseRecoveryCode(ctx, op.Name, hub.HashSecret(hub.NormalizeRecoveryCode(code)))
	if err != nil || !ok {
		return nil, "wrong code"
	}
	return op, "recovery code used"
}

// auditLogin records a login or a failed one.
func (s *Server) auditLogin(ctx context.Context, name, action, result, detail string) {
	if s.Audit == nil {
		return
	}
	e := &hub.AuditEntry{Actor: "operator:" + name, Action: action, Result: result, Detail: detail}
	if err := s.Audit.CreateAuditEntry(context.WithoutCancel(ctx), e); err != nil {
		s.Logger.Error("audit entry not written", "action", action, slog.Any("error", err))
	}
}

// createSession stores a new session of operator and returns its token.
func (s *Server) createSession(ctx context.Context, operator, address string) (string, error) {
	var raw [32]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails on supported platforms
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.Now().UTC()
	err := s.Sessions.CreateSession(ctx, &hub.Session{
		TokenHash:  hub.HashSecret(token),
		CreatedAt:  now,
		ExpiresAt:  now.Add(s.SessionTTL),
		Operator:   operator,
		LastSeenAt: now,
		Address:    address,
	})
	return token, err
}

// setSessionCookie hands the browser its session token, valid for
// auth.session_ttl; requireLogin sets it again as the session slides.
func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    token,
		Path:     "/",
		MaxAge:   int(s.SessionTTL.Seconds()),
		HttpOnly: true,
		Secure:   s.secureCookies(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// LogoutPage asks before logging out.
type LogoutPage struct{ Page }

func (s *Server) handleLogoutConfirm(w http.ResponseWriter, r *http.Request) {
	if !s.authEnabled(r.Context()) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "logout", "", &LogoutPage{Page: s.page(w, r, "Log out", "")})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.Sessions.DeleteSession(r.Context(), hub.HashSecret(c.Value)); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.clearSessionCookie(w, r)
	if !s.authEnabled(r.Context()) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.redirectWithFlash(w, r, "/login", "ok", "You are logged out.")
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(sessionCookie); err != nil {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
}
