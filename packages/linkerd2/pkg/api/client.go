package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBody bounds what the client reads from one answer, so a wrong server
// cannot make it buffer without end.
const maxBody = 1 << 20

// Client reads the controller's API.
type Client struct {
	base string
	http *http.Client
}

// ParseControllerURL checks that raw is an http(s) URL with a host and returns
// it without a trailing slash.
func ParseControllerURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("controller address %q is not an http:// or https:// URL (write it like http://127.0.0.1:8085)", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// NewClient makes a client for the controller at baseURL. Every request is
// bounded by timeout.
func NewClient(baseURL string, timeout time.Duration) (*Client, error) {
	base, err := ParseControllerURL(baseURL)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("timeout %v must be positive (e.g. 3s)", timeout)
	}
	return &Client{base: base, http: &http.Client{Timeout: timeout}}, nil
}

// URL is the controller's base URL, as errors and pages show it.
func (c *Client) URL() string { return c.base }

// Ready succeeds when the controller answers GET /ready with 200.
func (c *Client) Ready(ctx context.Context) error {
	resp, err := c.get(ctx, ReadyPath)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the controller at %s answered %s on %s, want 200 OK", c.base, resp.Status, ReadyPath)
	}
	return nil
}

// Version reads GET /api/version.
func (c *Client) Version(ctx context.Context) (VersionInfo, error) {
	var info VersionInfo
	if err := c.getJSON(ctx, VersionPath, &info); err != nil {
		return VersionInfo{}, err
	}
	if info.Version == "" || info.Platform == "" {
		return VersionInfo{}, fmt.Errorf("the controller at %s answered %s without a version or platform", c.base, VersionPath)
	}
	return info, nil
}

// Workloads reads GET /api/v1/workloads.
func (c *Client) Workloads(ctx context.Context) ([]Workload, error) {
	var list WorkloadList
	if err := c.getJSON(ctx, WorkloadsPath, &list); err != nil {
		return nil, err
	}
	return list.Workloads, nil
}

func (c *Client) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error repeats the method and URL; keep only the cause.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, fmt.Errorf("cannot reach the controller at %s: %v", c.base, err)
	}
	return resp, nil
}

func (c *Client) getJSON(ctx context.Context, path string, into interface{}) error {
	resp, err := c.get(ctx, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("reading %s from the controller at %s: %v", path, c.base, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the controller at %s answered %s on %s", c.base, resp.Status, path)
	}
	// A JSON check first: pointing --controller at the dashboard (an HTML
	// server) is an easy mistake, and "invalid character '<'" does not say so.
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mediaType != "application/json" {
		return fmt.Errorf("the server at %s answered %s with %q, not JSON: is it the controller?", c.base, path, resp.Header.Get("Content-Type"))
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("the controller at %s sent invalid JSON on %s: %v", c.base, path, err)
	}
	return nil
}
