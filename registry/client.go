// Package registry finds the newest controller release in an OCI
// distribution registry (as Gitea serves it) and records it.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	hub "github.com/felhom/hub"
)

// Client lists the tags of one image.
type Client struct {
	// Image is host[:port]/owner/name, as in registry.image.
	Image    string
	Username string
	// Password is the registry token or password for basic auth and the
	// token exchange.
	Password string
	HTTP     *http.Client

	bearer string // token from the last challenge, reused until refused
}

// limits on what a registry may send.
const (
	maxPages     = 50
	maxBodyBytes = 4 << 20
	pageSize     = 100
)

// split returns the registry host and the repository name of the image.
func (c *Client) split() (host, name string, err error) {
	host, name, ok := strings.Cut(c.Image, "/")
	if !ok || host == "" || name == "" {
		return "", "", fmt.Errorf("registry.image %q is not host/owner/name", c.Image)
	}
	return host, name, nil
}

// Tags lists every tag of the image, following the Link pagination.
func (c *Client) Tags(ctx context.Context) ([]string, error) {
	host, name, err := c.split()
	if err != nil {
		return nil, err
	}
	base := &url.URL{Scheme: "https", Host: host}
	next := base.ResolveReference(&url.URL{Path: "/v2/" + name + "/tags/list", RawQuery: fmt.Sprintf("n=%d", pageSize)})
	var tags []string
	for page := 0; next != nil; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("registry returned more than %d pages of tags", maxPages)
		}
		var body struct {
			Tags []string `json:"tags"`
		}
		link, err := c.getJSON(ctx, next, &body)
		if err != nil {
			return nil, err
		}
		tags = append(tags, body.Tags...)
		next, err = nextPage(base, link)
		if err != nil {
			return nil, err
		}
	}
	return tags, nil
}

// nextPage parses a Link header's rel="next" target, which must stay on
// the registry's host: the credentials go with it.
func nextPage(base *url.URL, link string) (*url.URL, error) {
	for part := range strings.SplitSeq(link, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
			continue
		}
		target = strings.TrimSpace(target)
		if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			return nil, errors.New("registry sent a malformed Link header")
		}
		ref, err := url.Parse(target[1 : len(target)-1])
		if err != nil {
			return nil, errors.New("registry sent a malformed Link header")
		}
		u := base.ResolveReference(ref)
		if u.Host != base.Host || u.Scheme != base.Scheme {
			return nil, errors.New("registry's next page points to another host")
		}
		return u, nil
	}
	return nil, nil
}

// getJSON fetches u into v, answering a 401 challenge once (Bearer token
// exchange or Basic). It returns the Link header.
func (c *Client) getJSON(ctx context.Context, u *url.URL, v any) (string, error) {
	resp, err := c.get(ctx, u, c.bearerHeader())
	if err != nil {
		return "", err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		challenge := resp.Header.Get("WWW-Authenticate")
		drain(resp)
		auth, err := c.answer(ctx, challenge)
		if err != nil {
			return "", err
		}
		if resp, err = c.get(ctx, u, auth); err != nil {
			return "", err
		}
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("registry answered HTTP %d for the tag list", resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBodyBytes)).Decode(v); err != nil {
		return "", errors.New("registry's tag list is not valid JSON")
	}
	return resp.Header.Get("Link"), nil
}

func (c *Client) bearerHeader() string {
	if c.bearer == "" {
		return ""
	}
	return "Bearer " + c.bearer
}

func (c *Client) get(ctx context.Context, u *url.URL, auth string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("registry %s: %w", u.Host, err)
	}
	return resp, nil
}

// answer returns the Authorization header for a challenge.
func (c *Client) answer(ctx context.Context, challenge string) (string, error) {
	scheme, params := parseChallenge(challenge)
	switch strings.ToLower(scheme) {
	case "basic":
		if c.Username == "" && c.Password == "" {
			return "", errors.New("registry wants basic auth: set registry.username and registry.token")
		}
		req := &http.Request{Header: http.Header{}}
		req.SetBasicAuth(c.Username, c.Password)
		return req.Header.Get("Authorization"), nil
	case "bearer":
		token, err := c.token(ctx, params)
		if err != nil {
			return "", err
		}
		c.bearer = token
		return "Bearer " + token, nil
	}
	return "", errors.New("registry refused the request without a usable authentication challenge")
}

// token runs the token exchange of the distribution spec: GET the realm
// with service and scope, with basic credentials when configured.
func (c *Client) token(ctx context.Context, params map[string]string) (string, error) {
	realm, err := url.Parse(params["realm"])
	if err != nil || (realm.Scheme != "https" && realm.Scheme != "http") || realm.Host == "" {
		return "", errors.New("registry's token challenge has no usable realm")
	}
	q := realm.Query()
	for _, k := range []string{"service", "scope"} {
		if params[k] != "" {
			q.Set(k, params[k])
		}
	}
	realm.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	if err != nil {
		return "", err
	}
	if c.Username != "" || c.Password != "" {
		req.SetBasicAuth(c.Username, c.Password)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("registry token service: %w", err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("registry token service answered HTTP %d (check registry.username and registry.token)", resp.StatusCode)
	}
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", errors.New("registry token service answered something that is not JSON")
	}
	if body.Token == "" {
		body.Token = body.AccessToken
	}
	if body.Token == "" {
		return "", errors.New("registry token service answered without a token")
	}
	return body.Token, nil
}

// parseChallenge splits `Bearer realm="…",service="…",scope="…"`.
func parseChallenge(h string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params := map[string]string{}
	for len(rest) > 0 {
		rest = strings.TrimLeft(rest, " ,")
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		var value string
		if strings.HasPrefix(after, `"`) {
			end := strings.IndexByte(after[1:], '"')
			if end < 0 {
				value, rest = after[1:], ""
			} else {
				value, rest = after[1:1+end], after[2+end:]
			}
		} else {
			value, rest, _ = strings.Cut(after, ",")
		}
		params[strings.ToLower(strings.TrimSpace(key))] = value
	}
	return scheme, params
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// Latest returns the highest release among tags: semver with an optional
// leading v; pre-releases and other tags are ignored. ok is false when
// there is none.
func Latest(tags []string) (tag string, ok bool) {
	var best hub.Semver
	for _, t := range tags {
		v, valid := hub.ParseSemver(t)
		if !valid || v.Pre != "" {
			continue
		}
		if !ok || best.Less(v) {
			best, tag, ok = v, t, true
		}
	}
	return tag, ok
}
