package web

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/auth"
	"batchtrack/views"
	"batchtrack/web/ratelimit"
)

func roleNames() []string {
	var out []string
	for _, r := range auth.Roles() {
		out = append(out, string(r))
	}
	return out
}

func fmtOptTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format("2006-01-02 15:04")
}

// authFieldErrors turns a domain error into form errors; ok is false for
// errors that are not the user's input.
func authFieldErrors(err error) (views.FieldErrors, bool) {
	var ve *auth.ValidationError
	switch {
	case errors.As(err, &ve):
		return views.FieldErrors{ve.Field: ve.Message}, true
	case errors.Is(err, auth.ErrEmailTaken):
		return views.FieldErrors{"email": "is already taken"}, true
	}
	return nil, false
}

func (s *Server) usersPage(c *fiber.Ctx, p views.UsersPage) (views.UsersPage, error) {
	users, err := s.authn.svc.ListUsers(c.UserContext())
	if err != nil {
		return p, err
	}
	me, _ := currentUser(c)
	p.Chrome, p.Roles = chromeFor(c, "Users", "users"), roleNames()
	for _, u := range users {
		p.Users = append(p.Users, views.UserRow{
			ID: u.ID.String(), Email: u.Email, DisplayName: u.DisplayName, Role: string(u.Role), Disabled: u.Disabled,
			CreatedAt: u.CreatedAt.Format("2006-01-02"), LastLogin: fmtOptTime(u.LastLoginAt), Self: u.ID == me.ID,
		})
	}
	if p.Form.Role == "" {
		p.Form.Role = string(roleViewer)
	}
	return p, nil
}

func (s *Server) renderUsers(c *fiber.Ctx, status int, p views.UsersPage) error {
	p, err := s.usersPage(c, p)
	if err != nil {
		return err
	}
	return render(c, status, views.AdminUsersPage(p))
}

func (s *Server) showUsersPage(c *fiber.Ctx) error {
	return s.renderUsers(c, fiber.StatusOK, views.UsersPage{})
}

func (s *Server) createUser(c *fiber.Ctx) error {
	f := views.NewUserForm{Email: c.FormValue("email"), DisplayName: c.FormValue("display_name"), Role: c.FormValue("role")}
	password, generated := c.FormValue("password"), false
	if password == "" {
		password, generated = auth.GeneratePassword(), true
	}
	u, err := s.authn.svc.CreateUser(c.UserContext(), auth.NewUser{
		Email: f.Email, DisplayName: f.DisplayName, Role: auth.Role(f.Role), Password: password,
	})
	if fe, ok := authFieldErrors(err); ok {
		f.Errors = fe
		return s.renderUsers(c, fiber.StatusUnprocessableEntity, views.UsersPage{Form: f})
	}
	if err != nil {
		return err
	}
	s.log(c).Info("user created", "user_id", u.ID, "role", u.Role, "by", actor(c).Name)
	p := views.UsersPage{Notice: "Added " + u.Email + " as " + string(u.Role) + "."}
	if generated {
		p.Shown = &views.ShownOnce{What: "password for " + u.Email, Secret: password}
	}
	return s.renderUsers(c, fiber.StatusCreated, p)
}

// updateUser changes a user's display name, role and disabled flag. An
// admin cannot disable or demote themselves: the last admin would lock
// everyone out of user management.
func (s *Server) updateUser(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return fiber.ErrNotFound
	}
	me, _ := currentUser(c)
	name := c.FormValue("display_name")
	u := auth.UserUpdate{DisplayName: &name}
	if id != me.ID {
		role := auth.Role(c.FormValue("role"))
		disabled := c.FormValue("disabled") == "true"
		u.Role, u.Disabled = &role, &disabled
	}
	updated, err := s.authn.svc.UpdateUser(c.UserContext(), id, u)
	if errors.Is(err, auth.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if fe, ok := authFieldErrors(err); ok {
		return s.renderUsers(c, fiber.StatusUnprocessableEntity, views.UsersPage{Error: "Not saved: " + firstError(fe)})
	}
	if err != nil {
		return err
	}
	s.log(c).Info("user updated", "user_id", updated.ID, "role", updated.Role, "disabled", updated.Disabled, "by", actor(c).Name)
	return c.Redirect("/admin/users", fiber.StatusSeeOther)
}

// resetPassword gives a user a new generated password, shown once, and
// ends the user's sessions.
func (s *Server) resetPassword(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return fiber.ErrNotFound
	}
	u, err := s.authn.svc.User(c.UserContext(), id)
	if errors.Is(err, auth.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	password := auth.GeneratePassword()
	if err := s.authn.svc.SetPassword(c.UserContext(), id, password); err != nil {
		return err
	}
	s.log(c).Info("password reset", "user_id", id, "by", actor(c).Name)
	return s.renderUsers(c, fiber.StatusOK, views.UsersPage{Shown: &views.ShownOnce{What: "password for " + u.Email, Secret: password}})
}

func firstError(fe views.FieldErrors) string {
	for k, v := range fe {
		return strings.TrimSpace(strings.ReplaceAll(k, "_", " ") + " " + v)
	}
	return ""
}

func (s *Server) renderTokens(c *fiber.Ctx, status int, p views.TokensPage) error {
	ctx := c.UserContext()
	tokens, err := s.authn.svc.ListTokens(ctx)
	if err != nil {
		return err
	}
	users, err := s.authn.svc.ListUsers(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	p.Chrome = chromeFor(c, "API tokens", "tokens")
	for _, t := range tokens {
		status := "active"
		switch {
		case t.RevokedAt != nil:
			status = "revoked"
		case !t.Active(now):
			status = "expired"
		}
		p.Tokens = append(p.Tokens, views.TokenRow{
			ID: t.ID.String(), Prefix: t.Prefix, Name: t.Name, UserEmail: t.UserEmail, Created: t.CreatedAt.Format("2006-01-02 15:04"),
			Expires: fmtOptTime(t.ExpiresAt), LastUsed: fmtOptTime(t.LastUsedAt), Status: status,
			RateLimits: ratelimit.FormatTokenRateLimits(t.RateLimits),
		})
	}
	for _, u := range users {
		if !u.Disabled {
			p.Form.Users = append(p.Form.Users, views.Option{Value: u.Email, Label: u.Email + " (" + string(u.Role) + ")"})
		}
	}
	return render(c, status, views.AdminTokensPage(p))
}

func (s *Server) showTokensPage(c *fiber.Ctx) error {
	return s.renderTokens(c, fiber.StatusOK, views.TokensPage{})
}

func (s *Server) createToken(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := views.NewTokenForm{UserEmail: c.FormValue("user"), Name: c.FormValue("name"), Expires: strings.TrimSpace(c.FormValue("expires"))}
	fail := func(field, msg string) error {
		f.Errors = views.FieldErrors{field: msg}
		return s.renderTokens(c, fiber.StatusUnprocessableEntity, views.TokensPage{Form: f})
	}
	owner, err := s.authn.svc.UserByEmail(ctx, f.UserEmail)
	if errors.Is(err, auth.ErrNotFound) {
		return fail("user", "names no user")
	}
	if err != nil {
		return err
	}
	var expires *time.Time
	if f.Expires != "" {
		days, err := strconv.Atoi(f.Expires)
		if err != nil || days < 1 || days > 3660 {
			return fail("expires", "must be a number of days from 1 to 3660")
		}
		t := time.Now().Add(time.Duration(days) * 24 * time.Hour)
		expires = &t
	}
	me, _ := currentUser(c)
	tok, secret, err := s.authn.svc.CreateToken(ctx, auth.NewToken{UserID: owner.ID, Name: f.Name, ExpiresAt: expires, CreatedBy: &me.ID})
	if fe, ok := authFieldErrors(err); ok {
		f.Errors = fe
		return s.renderTokens(c, fiber.StatusUnprocessableEntity, views.TokensPage{Form: f})
	}
	if err != nil {
		return err
	}
	s.log(c).Info("token created", "token_id", tok.ID, "prefix", tok.Prefix, "user_id", owner.ID, "by", actor(c).Name)
	return s.renderTokens(c, fiber.StatusCreated, views.TokensPage{
		Shown: &views.ShownOnce{What: "token " + tok.Prefix + " for " + owner.Email, Secret: secret},
	})
}

func (s *Server) revokeToken(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return fiber.ErrNotFound
	}
	err = s.authn.svc.RevokeToken(c.UserContext(), id)
	if errors.Is(err, auth.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	s.log(c).Info("token revoked", "token_id", id, "by", actor(c).Name)
	return c.Redirect("/admin/tokens", fiber.StatusSeeOther)
}

// setTokenLimits gives a token its own API rate limits.
func (s *Server) setTokenLimits(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return fiber.ErrNotFound
	}
	limits, err := ratelimit.ParseTokenRateLimits(c.FormValue("rate_limits"))
	if err != nil {
		return s.renderTokens(c, fiber.StatusUnprocessableEntity, views.TokensPage{LimitsFor: id.String(), LimitsError: err.Error()})
	}
	err = s.authn.svc.SetTokenRateLimits(c.UserContext(), id, limits)
	if errors.Is(err, auth.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	s.log(c).Info("token rate limits set", "token_id", id, "limits", limits, "by", actor(c).Name)
	return s.renderTokens(c, fiber.StatusOK, views.TokensPage{Notice: "Rate limits saved."})
}
