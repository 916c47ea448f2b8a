package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	hub "github.com/felhom/hub"
	"github.com/felhom/hub/api"
	"golang.org/x/crypto/bcrypt"
)

// UsersPage lists the operators and the API tokens, for admins.
type UsersPage struct {
	Page
	Operators []OperatorView
	Tokens    []*hub.APIToken
	Error     string
	// NewToken is a token just made, shown once.
	NewToken, NewTokenName string
}

// OperatorView is one account in the list.
type OperatorView struct {
	Name, Role    string
	Builtin, TOTP bool
	Self          bool
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) (*UsersPage, error) {
	ops, err := s.Operators.FindOperators(r.Context())
	if err != nil {
		return nil, err
	}
	tokens, err := s.Tokens.FindAPITokens(r.Context())
	if err != nil {
		return nil, err
	}
	p := &UsersPage{Page: s.page(w, r, "Users", "users"), Tokens: tokens}
	me := ""
	if o := operatorOf(r.Context()); o != nil {
		me = o.Name
	}
	for _, o := range ops {
		p.Operators = append(p.Operators, OperatorView{Name: o.Name, Role: string(o.Role), Builtin: o.Builtin,
			TOTP: o.TOTPEnabled(), Self: o.Name == me})
	}
	return p, nil
}

func (s *Server) handleUsersShow(w http.ResponseWriter, r *http.Request) {
	p, err := s.usersPage(w, r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "users", "", p)
}

// usersFailed shows the page again with what went wrong.
func (s *Server) usersFailed(w http.ResponseWriter, r *http.Request, err error) {
	p, perr := s.usersPage(w, r)
	if perr != nil {
		s.renderError(w, r, perr)
		return
	}
	p.Error = hub.ErrorMessage(err)
	s.render(w, r, s.statusOf(err), "users", "", p)
}

func (s *Server) statusOf(err error) int {
	switch hub.ErrorCode(err) {
	case hub.ECONFLICT:
		return http.StatusConflict
	case hub.ENOTFOUND:
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

// auditAction records an admin's action on accounts and tokens.
func (s *Server) auditAction(r *http.Request, action string, err error, detail string) {
	result := hub.AuditOK
	if err != nil {
		result, detail = hub.AuditError, hub.ErrorMessage(err)
	}
	name := ""
	if o := operatorOf(r.Context()); o != nil {
		name = o.Name
	}
	s.auditLogin(r.Context(), name, action, result, detail)
}

func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		s.renderError(w, r, err)
		return
	}
	f := r.PostForm
	name := strings.TrimSpace(f.Get("name"))
	err := hub.ValidateOperatorName(name)
	var role hub.Role
	if err == nil {
		role, err = hub.ParseRole(f.Get("role"))
	}
	if err == nil {
		err = hub.ValidatePassword(f.Get("password"))
	}
	if err != nil {
		s.usersFailed(w, r, err)
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(f.Get("password")), bcryptCost)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	err = s.Operators.CreateOperator(r.Context(), &hub.Operator{Name: name, PasswordHash: string(hash), Role: role})
	s.auditAction(r, "operator.add", err, name+" as "+string(role))
	if err != nil {
		s.usersFailed(w, r, err)
		return
	}
	s.redirectWithFlash(w, r, "/users", "ok", "Added "+name+" ("+string(role)+").")
}

func (s *Server) handleUserRemove(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := hub.ValidateOperatorName(name); err != nil {
		s.usersFailed(w, r, err)
		return
	}
	err := s.Operators.DeleteOperator(r.Context(), name)
	s.auditAction(r, "operator.remove", err, name)
	if err != nil {
		s.usersFailed(w, r, err)
		return
	}
	s.redirectWithFlash(w, r, "/users", "ok", "Removed "+name+"; their sessions have ended.")
}

func (s *Server) handleUserRole(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		s.renderError(w, r, err)
		return
	}
	name := r.PathValue("name")
	role, err := hub.ParseRole(r.PostForm.Get("role"))
	if err == nil {
		err = s.Operators.SetOperatorRole(r.Context(), name, role)
	}
	s.auditAction(r, "operator.role", err, name+" as "+string(role))
	if err != nil {
		s.usersFailed(w, r, err)
		return
	}
	s.redirectWithFlash(w, r, "/users", "ok", name+" is now "+string(role)+".")
}

func (s *Server) handleTokenCreate(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		s.renderError(w, r, err)
		return
	}
	f := r.PostForm
	var expires *time.Time
	if d := strings.TrimSpace(f.Get("expires_days")); d != "" && d != "0" {
		var days int
		if _, err := fmt.Sscan(d, &days); err != nil || days < 1 || days > 3660 {
			s.usersFailed(w, r, hub.Errorf(hub.EINVALID, "Expires in must be a number of days between 1 and 3660, or empty."))
			return
		}
		e := s.Now().Add(time.Duration(days) * 24 * time.Hour)
		expires = &e
	}
	creator := ""
	if o := operatorOf(r.Context()); o != nil {
		creator = "operator:" + o.Name
	}
	t, plain, err := api.NewAPIToken(strings.TrimSpace(f.Get("name")), f["scope"], expires, creator, s.Now())
	if err == nil {
		err = s.Tokens.CreateAPIToken(r.Context(), t)
	}
	if err != nil {
		s.usersFailed(w, r, err)
		return
	}
	s.auditAction(r, "token.create", nil, "id "+t.ID+", name "+hub.Printable(t.Name, 64))
	p, err := s.usersPage(w, r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	p.NewToken, p.NewTokenName = plain, t.Name
	s.render(w, r, http.StatusCreated, "users", "", p)
}

func (s *Server) handleTokenRevoke(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("token_id")
	err := s.Tokens.DeleteAPIToken(r.Context(), id)
	s.auditAction(r, "token.revoke", err, "id "+hub.Printable(id, 64))
	if err != nil {
		s.usersFailed(w, r, err)
		return
	}
	s.redirectWithFlash(w, r, "/users", "ok", "Token revoked.")
}

func (s *Server) handleCustomerRotateRetrievalPassword(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := hub.ValidateCustomerID(id); err != nil {
		s.renderError(w, r, err)
		return
	}
	if _, err := s.Actions.RotateRetrievalPassword(r.Context(), actorOf(r.Context()), id); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.redirectWithFlash(w, r, "/customers/"+id+"#credentials", "ok",
		"New retrieval password made: the old one no longer works. Give the new one to whoever restores this node.")
}

// hideSecretsFromViewer takes every secret off a viewer's customer page:
// credentials, the setup steps that hold them, and the overrides (which
// may hold tokens). The masked YAML preview stays.
func hideSecretsFromViewer(ctx context.Context, p *CustomerPage) {
	if canAct(ctx) {
		return
	}
	p.Credentials, p.Setup = nil, nil
	if p.Config != nil && p.Config.OverridesYAML != "" {
		p.Config.OverridesYAML = "(hidden from viewers)"
	}
}
