// Package keys holds twinid's key material: the keyring derived from the master key (keyed
// hashes of secrets, AES-GCM sealing), random secrets and ids, and the accounts' signing
// keys with their generation, rotation, JWKS and the key sets a node caches.
//
// It imports account, cache, store and gen, and jwx (one of the three packages that may).
// Start with Keyring and Keys.Get.
package keys
