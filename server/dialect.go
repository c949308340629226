package server

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// dialect is the error form an endpoint speaks.
type dialect int

const (
	// problemDialect: RFC 9457 problem+json (the Management API and everything else).
	problemDialect dialect = iota
	// oauthDialect: RFC 6749 §5.2 JSON; the body is read as protocol parameters.
	oauthDialect
	// pageDialect: HTML pages for people in a browser.
	pageDialect
)

// dialects is the path → dialect table derived from the document at start-up: an operation
// whose error responses are text/html speaks pages, one whose error responses are the
// OAuthError schema speaks RFC 6749, any other problem+json. An operation added to the
// document gets its dialect, its validation and its body handling from what the document
// says of it, with no list to keep.
type dialects struct {
	byLen map[int][]template
	// paramLimits are the protocol parameters' maximum lengths, from the request schemas
	// of the RFC 6749 operations.
	paramLimits map[string]int
}

// template is a path of the document split into segments; "" matches any one segment.
type template struct {
	segs    []string
	dialect dialect
}

func dialectsOf(spec *openapi3.T) (dialects, error) {
	ds := dialects{byLen: map[int][]template{}, paramLimits: map[string]int{}}
	for path, item := range spec.Paths.Map() {
		d, err := pathDialect(path, item)
		if err != nil {
			return ds, err
		}
		segs := strings.Split(strings.Trim(path, "/"), "/")
		for i, s := range segs {
			if strings.HasPrefix(s, "{") {
				segs[i] = ""
			}
		}
		ds.byLen[len(segs)] = append(ds.byLen[len(segs)], template{segs: segs, dialect: d})
		// The most literal template matches first (/clients/rotate before /clients/{id}).
		slices.SortStableFunc(ds.byLen[len(segs)], func(a, b template) int { return literals(b) - literals(a) })
		if d != oauthDialect {
			continue
		}
		for _, op := range item.Operations() {
			if err := ds.addLimits(op); err != nil {
				return ds, fmt.Errorf("openapi: %s: %w", path, err)
			}
		}
	}
	return ds, nil
}

// pathDialect is the one dialect all operations of a path speak.
func pathDialect(path string, item *openapi3.PathItem) (dialect, error) {
	found := -1
	for _, op := range item.Operations() {
		d := problemDialect
		for code, ref := range op.Responses.Map() {
			if ref.Value == nil || (code[0] != '4' && code[0] != '5' && code != "default") {
				continue
			}
			for ct, mt := range ref.Value.Content {
				switch {
				case strings.HasPrefix(ct, "text/html"):
					d = pageDialect
				case mt.Schema != nil && strings.HasSuffix(mt.Schema.Ref, "/OAuthError") && d != pageDialect:
					d = oauthDialect
				}
			}
		}
		if found >= 0 && dialect(found) != d {
			return 0, errors.New("openapi: the operations of " + path + " answer errors in different forms")
		}
		found = int(d)
	}
	return dialect(max(found, 0)), nil
}

// addLimits records the maxLength of every body parameter of a protocol operation; each
// must have one, since ReadParams enforces them instead of the validator.
func (ds dialects) addLimits(op *openapi3.Operation) error {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	for _, mt := range op.RequestBody.Value.Content {
		if mt.Schema == nil || mt.Schema.Value == nil {
			continue
		}
		for name, prop := range mt.Schema.Value.Properties {
			if prop.Value == nil || prop.Value.MaxLength == nil {
				return fmt.Errorf("%s has no maxLength", name)
			}
			if l, ok := ds.paramLimits[name]; !ok || int(*prop.Value.MaxLength) > l {
				ds.paramLimits[name] = int(*prop.Value.MaxLength)
			}
		}
	}
	return nil
}

func literals(t template) int {
	n := 0
	for _, s := range t.segs {
		if s != "" {
			n++
		}
	}
	return n
}

// of returns the dialect of a request path; paths the document lacks speak problem+json.
func (ds dialects) of(path string) dialect {
	n := strings.Count(path, "/")
	if strings.HasPrefix(path, "/") {
		n--
	}
	candidates := ds.byLen[n+1]
	if len(candidates) == 0 {
		return problemDialect
	}
	rest := strings.TrimPrefix(path, "/")
next:
	for _, t := range candidates {
		p := rest
		for _, seg := range t.segs {
			part, tail, _ := strings.Cut(p, "/")
			if seg != "" && part != seg {
				continue next
			}
			p = tail
		}
		return t.dialect
	}
	return problemDialect
}
