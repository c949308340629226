// Package ratelimit holds token buckets: in this node's memory (Memory, also used to count
// failed client authentications) or shared by every node through Redis (Redis, GCRA via
// go-redis/redis_rate), or Redis with the memory buckets standing in while it is down
// (Fallback). A Result carries what the RateLimit-* headers show.
//
// It imports nothing of the project (layer 1). Start with Memory.Allow.
package ratelimit
