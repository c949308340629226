// Package account is what every layer needs of a tenant: its effective settings (defaults
// filled in), its issuer URL, and the account itself loaded through the node cache, with
// Forget for writers on this node.
//
// It imports cache and store (layer 2). Start with Effective and Accounts.Get.
package account
