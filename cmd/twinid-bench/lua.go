package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// This file holds the wrk Lua scripts of the login and refresh-token parts. Each script
// counts the answers' status codes per wrk thread and prints them from done() as
// "STATUS <code> <n>" lines; the refresh script also prints the refresh tokens it still
// holds at the end as "TOKEN <t>" lines, so the next run can continue their chains.

// luaCommon is shared by both scripts: thread numbering in setup, status counting in
// response, and the STATUS lines printed by done.
const luaCommon = `
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

c200, c429, c503, cother = 0, 0, 0, 0
local function count(status)
  if status == 200 then c200 = c200 + 1
  elseif status == 429 then c429 = c429 + 1
  elseif status == 503 then c503 = c503 + 1
  else cother = cother + 1 end
end

local function report()
  local s = {0, 0, 0, 0}
  for _, t in ipairs(threads) do
    s[1] = s[1] + t:get("c200")
    s[2] = s[2] + t:get("c429")
    s[3] = s[3] + t:get("c503")
    s[4] = s[4] + t:get("cother")
  end
  io.write(string.format("STATUS 200 %d\nSTATUS 429 %d\nSTATUS 503 %d\nSTATUS other %d\n", s[1], s[2], s[3], s[4]))
end
`

// loginScript rotates over the customers' credentials, each wrk thread from its own offset.
func loginScript(auth, audience string, emails, passwords []string) string {
	return fmt.Sprintf(`-- twinid-bench: customer password logins
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = %s
local emails = %s
local passwords = %s
local audience = %s
%s
local i = 0
function init(args)
  i = ((tid or 1) - 1) * 7919 %% #emails
end
function request()
  i = i %% #emails + 1
  return wrk.format(nil, nil, nil, '{"email":"' .. emails[i] .. '","password":"' .. passwords[i] ..
    '","type":"customer","audience":"' .. audience .. '"}')
end
function response(status, headers, body)
  count(status)
end
function done(summary, latency, requests)
  report()
end
`, luaString(auth), luaList(emails), luaList(passwords), luaString(audience), luaCommon)
}

// refreshScript exchanges refresh tokens. Thread k of n takes tokens k, k+n, k+2n, ... into
// a FIFO; each request takes the oldest token and each 200 answer puts the rotated one back,
// so every chain is followed and no token is ever sent twice.
func refreshScript(auth string, threads int, tokens []string) string {
	return fmt.Sprintf(`-- twinid-bench: refresh-token exchanges with rotation
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = %s
local all = %s
local nthreads = %d
%s
queue, head, tail, empty = {}, 1, 0, 0
function init(args)
  for k = (tid or 1), #all, nthreads do
    tail = tail + 1
    queue[tail] = all[k]
  end
end
function request()
  local t = "twrt_queue_empty"
  if head <= tail then
    t = queue[head]
    queue[head] = nil
    head = head + 1
  else
    empty = empty + 1
  end
  return wrk.format(nil, nil, nil, '{"grant_type":"refresh_token","refresh_token":"' .. t .. '"}')
end
function response(status, headers, body)
  count(status)
  if status == 200 then
    local t = body:match('"refresh_token"%%s*:%%s*"([^"]+)"')
    if t then
      tail = tail + 1
      queue[tail] = t
    end
  end
end
function done(summary, latency, requests)
  report()
  local e = 0
  for _, th in ipairs(threads) do
    e = e + th:get("empty")
    local q, h, tl = th:get("queue"), th:get("head"), th:get("tail")
    for k = h, tl do
      if q[k] then io.write("TOKEN ", q[k], "\n") end
    end
  end
  io.write(string.format("STATUS empty %%d\n", e))
end
`, luaString(auth), luaList(tokens), threads, luaCommon)
}

// scriptRun is what one run of a script measured.
type scriptRun struct {
	load   loadResult
	status map[string]int64 // "200", "429", "503", "other", "empty" (refresh: no token left)
	tokens []string         // refresh tokens left over at the end
}

// parseScriptLines reads the STATUS and TOKEN lines of a script's done().
func parseScriptLines(out string) (map[string]int64, []string, error) {
	status := map[string]int64{}
	var tokens []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "STATUS":
			n, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("wrk script output %q: %w", sc.Text(), err)
			}
			status[f[1]] += n
		case len(f) == 2 && f[0] == "TOKEN":
			tokens = append(tokens, f[1])
		}
	}
	if len(status) == 0 {
		return nil, nil, fmt.Errorf("wrk script printed no STATUS lines:\n%s", out)
	}
	return status, tokens, sc.Err()
}

// runScript runs wrk with script against url for about d with conns connections and
// threads threads (the script must have been made for that many threads).
func (g wrkGen) runScript(ctx context.Context, name, script, url string, conns, threads int, d time.Duration) (scriptRun, error) {
	path := filepath.Join(g.dir, name+".lua")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		return scriptRun{}, err
	}
	secs := max(1, int(math.Ceil(d.Seconds())))
	args := []string{"-t" + strconv.Itoa(threads), "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(secs) + "s",
		"--timeout", "10s", "--latency", "-s", path, url}
	cmd := exec.CommandContext(ctx, g.path, args...)
	if g.pin {
		cmd = exec.CommandContext(ctx, "taskset", append([]string{"-c", strconv.Itoa(loadCPU), g.path}, args...)...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return scriptRun{}, ctx.Err()
	}
	if err != nil {
		return scriptRun{}, fmt.Errorf("wrk %s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	var r scriptRun
	if r.load, err = parseWrk(string(out)); err != nil {
		return r, err
	}
	r.status, r.tokens, err = parseScriptLines(string(out))
	return r, err
}

// threadsFor is the number of wrk threads for conns connections.
func (g wrkGen) threadsFor(conns int) int { return max(1, min(g.threads, conns)) }
