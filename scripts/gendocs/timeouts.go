package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// providerDir holds the resources whose default timeouts are documented.
const providerDir = "internal/provider"

// timeoutsOf renders the default timeouts of a resource: the constants
// default<kind>{Create,Update,Delete}Timeout of package provider, written as N * time.Minute
// (or time.Hour, time.Second).
func timeoutsOf(kind string) func() (string, error) {
	return func() (string, error) {
		consts, err := durationConsts(providerDir)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		b.WriteString("| operation | default |\n|---|---|\n")
		for _, op := range []string{"Create", "Update", "Delete"} {
			name := "default" + kind + op + "Timeout"
			d, ok := consts[name]
			if !ok {
				return "", fmt.Errorf("no constant %s in %s", name, providerDir)
			}
			fmt.Fprintf(&b, "| `%s` | %s |\n", strings.ToLower(op), spell(d))
		}
		return b.String(), nil
	}
}

// durationConsts reads the package's constants of the form N * time.Unit.
func durationConsts(dir string) (map[string]time.Duration, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	units := map[string]time.Duration{"Second": time.Second, "Minute": time.Minute, "Hour": time.Hour}
	out := map[string]time.Duration{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, decl := range file.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok {
					continue
				}
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					mul, ok := vs.Values[i].(*ast.BinaryExpr)
					if !ok || mul.Op != token.MUL {
						continue
					}
					lit, ok := mul.X.(*ast.BasicLit)
					sel, ok2 := mul.Y.(*ast.SelectorExpr)
					if !ok || !ok2 || lit.Kind != token.INT {
						continue
					}
					pkg, ok := sel.X.(*ast.Ident)
					unit, known := units[sel.Sel.Name]
					if !ok || pkg.Name != "time" || !known {
						continue
					}
					n, err := strconv.Atoi(lit.Value)
					if err != nil {
						return nil, fmt.Errorf("%s: %s: %w", f, name.Name, err)
					}
					out[name.Name] = time.Duration(n) * unit
				}
			}
		}
	}
	return out, nil
}

// spell writes a duration as "90 minutes" or "2 hours".
func spell(d time.Duration) string {
	switch {
	case d%time.Hour == 0 && d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}
