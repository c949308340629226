// Package page renders twinid's hosted pages: the templates (server-rendered, no
// JavaScript, escaped by html/template), the HTML response that answers every generated
// browser operation, page errors, cookies and redirect URLs.
//
// Both browser surfaces, pages and upstream, speak this dialect, so it is a leaf of its own
// rather than part of either. It imports nothing of the project (layer 1). Start with Render
// and HTML.
package page
