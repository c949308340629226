package server_test

import (
	"go/ast"
	"go/types"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

const module = "github.com/twinid/twinid"

// layers of the packages under server/ (doc.go of server draws them): a package imports
// only packages of lower layers, plus the leaves in anyLayer. The four surfaces (layer 6)
// never import each other.
var layers = map[string]int{
	"server/reqctx": 1, "server/problem": 1, "server/oauth2": 1, "server/cache": 1,
	"server/ratelimit": 1, "server/metrics": 1, "server/page": 1,
	"server/account": 2, "server/audit": 2,
	"server/keys":   3,
	"server/tokens": 4, "server/clients": 4,
	"server/login":    5,
	"server/protocol": 6, "server/pages": 6, "server/upstream": 6, "server/manage": 6,
}

// anyLayer are the project packages every layer may import.
var anyLayer = []string{"store", "gen", "server/mail", "server/passwords", "server/workqueue"}

// only lists third-party import prefixes and the project packages allowed to import them.
// gen is generated code (echo and kin-openapi are its runtime); cmd/twinid-bench times raw
// jwx signatures as the baseline of its token figures.
var only = []struct {
	prefix  string
	allowed []string
}{
	{"github.com/labstack/echo/", []string{"server", "gen"}},
	{"github.com/oapi-codegen/echo-middleware", []string{"server"}},
	{"github.com/getkin/kin-openapi/", []string{"server", "gen"}},
	{"github.com/lestrrat-go/jwx/", []string{"server/keys", "server/tokens", "server/upstream", "cmd/twinid-bench"}},
	{"gorm.io/", []string{"store"}},
	{"github.com/coreos/go-oidc/", []string{"server/upstream"}},
}

// graph maps each project package (relative to the module, "" for the root) to its direct
// imports, as `go list -deps` reports them.
func graph(t *testing.T) map[string][]string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}|{{join .Imports \",\"}}", "./...")
	cmd.Dir = filepath.Dir(filepath.Dir(file))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	g := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, imports, _ := strings.Cut(line, "|")
		if path != module && !strings.HasPrefix(path, module+"/") {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
		g[rel] = nil
		if imports != "" {
			g[rel] = strings.Split(imports, ",")
		}
	}
	if len(g) < 5 {
		t.Fatalf("go list found only %d project packages", len(g))
	}
	return g
}

// TestLayering holds the layering rules that server/doc.go draws: one-way
// imports between the layers under server/, surfaces that never import each other, nothing
// under server/ importing server, and each heavy library in its own corner.
func TestLayering(t *testing.T) {
	t.Parallel()
	for _, v := range checkLayering(graph(t)) {
		t.Error(v)
	}
}

func checkLayering(g map[string][]string) []string {
	var bad []string
	for pkg, imports := range g {
		for _, imp := range imports {
			rel, project := strings.CutPrefix(imp, module+"/")
			if !project {
				for _, rule := range only {
					if strings.HasPrefix(imp, rule.prefix) && !slices.Contains(rule.allowed, pkg) {
						bad = append(bad, pkg+" imports "+imp+": only "+strings.Join(rule.allowed, ", ")+" may")
					}
				}
				continue
			}
			switch {
			case pkg == "store":
				bad = append(bad, "store imports "+rel+": the store imports no project package")
			case strings.HasPrefix(pkg, "server/") && rel == "server":
				bad = append(bad, pkg+" imports server: nothing under server/ imports server")
			}
			lp, inLayers := layers[pkg]
			if !inLayers || slices.Contains(anyLayer, rel) {
				continue
			}
			li, known := layers[rel]
			switch {
			case !known && strings.HasPrefix(rel, "server/"):
				bad = append(bad, pkg+" imports "+rel+", a package of no layer")
			case known && li >= lp:
				bad = append(bad, pkg+" (layer "+itoa(lp)+") imports "+rel+" (layer "+itoa(li)+"): only lower layers")
			}
		}
	}
	slices.Sort(bad)
	return bad
}

func itoa(n int) string { return string(rune('0' + n)) }

// The store knows nothing of HTTP or of the API types, not even through a dependency.
func TestStoreImportsNoHTTP(t *testing.T) {
	t.Parallel()
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "list", "-deps", "./store")
	cmd.Dir = filepath.Dir(filepath.Dir(file))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "net/http", strings.HasPrefix(dep, "github.com/labstack/echo"),
			strings.HasPrefix(dep, module+"/") && dep != module+"/store":
			t.Errorf("store depends on %s", dep)
		}
	}
}

// The checker itself catches each kind of broken rule (a layering test that cannot fail
// would guard nothing).
func TestLayeringCatchesViolations(t *testing.T) {
	t.Parallel()
	cases := map[string]map[string][]string{
		"upward import":          {"server/keys": {module + "/server/tokens"}},
		"same layer":             {"server/tokens": {module + "/server/clients"}},
		"surface to surface":     {"server/pages": {module + "/server/protocol"}},
		"back to server":         {"server/manage": {module + "/server"}},
		"echo outside server":    {"server/protocol": {"github.com/labstack/echo/v4"}},
		"jwx outside its corner": {"server/manage": {"github.com/lestrrat-go/jwx/v3/jwt"}},
		"gorm outside store":     {"server/login": {"gorm.io/gorm"}},
		"store imports project":  {"store": {module + "/gen"}},
		"unknown server package": {"server/login": {module + "/server/misc"}},
	}
	for name, g := range cases {
		if len(checkLayering(g)) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
	ok := map[string][]string{
		"server/login":    {module + "/server/tokens", module + "/store", module + "/server/passwords"},
		"server/protocol": {module + "/server/login", module + "/gen", "net/http"},
		"server":          {module + "/server/protocol", "github.com/labstack/echo/v4"},
	}
	if v := checkLayering(ok); len(v) != 0 {
		t.Errorf("a lawful graph was reported: %v", v)
	}
}

// TestNoFilesUseEachOther: within a package, no two files each use what the other defines
// (a function, method, type, field, variable or constant), so every package reads one way,
// from its base file up. Test files are left out.
func TestNoFilesUseEachOther(t *testing.T) {
	t.Parallel()
	_, file, _, _ := runtime.Caller(0)
	cfg := &packages.Config{Dir: filepath.Dir(filepath.Dir(file)),
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		if len(p.Errors) > 0 || p.Types == nil || strings.HasSuffix(p.PkgPath, "/gen") {
			continue
		}
		for _, pair := range mutualFiles(p) {
			t.Errorf("%s: %s", p.PkgPath, pair)
		}
	}
}

// mutualFiles lists the pairs of files of p that use each other.
func mutualFiles(p *packages.Package) []string {
	uses := map[[2]string]string{}
	for _, f := range p.Syntax {
		from := filepath.Base(p.Fset.Position(f.Pos()).Filename)
		ast.Inspect(f, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok {
				return true
			}
			obj := p.TypesInfo.Uses[id]
			if obj == nil || obj.Pkg() != p.Types || !obj.Pos().IsValid() {
				return true
			}
			if v, isVar := obj.(*types.Var); isVar && !v.IsField() && v.Parent() != p.Types.Scope() {
				return true // a local variable
			}
			if _, isLabel := obj.(*types.Label); isLabel {
				return true
			}
			if tn, isType := obj.(*types.TypeName); isType && tn.Parent() != p.Types.Scope() {
				return true // a local type
			}
			if to := filepath.Base(p.Fset.Position(obj.Pos()).Filename); to != from {
				uses[[2]string{from, to}] = id.Name
			}
			return true
		})
	}
	var out []string
	for e, name := range uses {
		if back, ok := uses[[2]string{e[1], e[0]}]; ok && e[0] < e[1] {
			out = append(out, e[0]+" uses "+name+" of "+e[1]+", which uses "+back+" of it")
		}
	}
	slices.Sort(out)
	return out
}
