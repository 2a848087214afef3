// Package gosrc holds what the module's source tools (apicount, funclen)
// share about reading Go declarations.
package gosrc

import "go/ast"

// TypeName is the type name of a receiver or embedded field: T, *T, T[P],
// pkg.T. It returns "" for any other expression.
func TypeName(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.SelectorExpr:
			return t.Sel.Name
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}
