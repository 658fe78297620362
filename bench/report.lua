-- report.lua: turns the RESULT lines of scripts/bench.sh into the table:
-- per dialect and workload, each implementation's median seconds over the
-- rounds, its ratio to raw C, its checksum (a disagreement with raw C is
-- flagged and makes the exit status 1) and, for W5, peak memory.
--   lua5.4 report.lua RESULTS SCALE ROUNDS NU NP N2 N3 N4 [PG_NOTE]

local path, scale, rounds, nu, np, n2, n3, n4, pg_note = table.unpack(arg)
-- assoc_raw: assoc's W2 with raw = true (plain tables), for comparison.
local IMPLS = { "raw_c", "luasql", "assoc", "assoc_raw" }
local WORKLOADS = { "W1", "W2", "W3", "W4", "W5" }
local TITLES = { W1 = "link", W2 = "get", W3 = "count+has", W4 = "set",
                 W5 = "eager" }
local DIALECTS = { sqlite = "SQLite (file, WAL, synchronous=NORMAL)",
                   postgres = "PostgreSQL (Unix socket, synchronous_commit=off,"
                     .. " " .. (pg_note or "stock planner costs") .. ")" }
-- The issue's targets for assoc: a ratio to raw C per dialect.
local TARGET = { sqlite = 1.25, postgres = 1.0 }

-- results[dialect][w][impl] = { secs = {...}, checksums = {...}, ... }
local results, errors, seen_dialects = {}, {}, {}
for line in io.lines(path) do
  local f = {}
  local err = line:match(" error=(.-) round=%d+$")
  for k, v in line:gmatch("([%w_]+)=(%S+)") do f[k] = v end
  local d, w, impl = f.dialect, f.w, f.impl
  if d and w and impl then
    if not seen_dialects[d] then
      seen_dialects[d] = true
      seen_dialects[#seen_dialects + 1] = d
    end
    results[d] = results[d] or {}
    results[d][w] = results[d][w] or {}
    local r = results[d][w][impl]
    if not r then
      r = { secs = {}, checksums = {}, base = {}, peak = {} }
      results[d][w][impl] = r
    end
    if err then
      r.error = err
      errors[#errors + 1] = string.format("%s %s %s round %s: %s", impl, d, w,
                                          f.round or "?", err)
    else
      r.secs[#r.secs + 1] = tonumber(f.seconds)
      r.checksums[f.checksum] = true
      r.checksum = r.checksum or f.checksum
      r.ops, r.rows = f.ops, f.rows
      if f.rss_peak_kb then
        r.base[#r.base + 1] = tonumber(f.rss_base_kb)
        r.peak[#r.peak + 1] = tonumber(f.rss_peak_kb)
      end
    end
  end
end

local function median(t)
  if #t == 0 then return nil end
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local m = (#s + 1) // 2
  if #s % 2 == 1 then return s[m] end
  return (s[m] + s[m + 1]) / 2
end

local function count_keys(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

local out = {}
local function say(fmt, ...) out[#out + 1] = string.format(fmt, ...) end

say("assoc benchmark (issue 7), scale %s: %s users, %s projects, W2 %s calls,"
    .. " W3 %s x (count + has), W4 %s sets; median of %s rounds",
    scale, nu, np, n2, n3, n4, rounds)

local mismatches, misses = {}, {}
local ref_checksum = {} -- w -> raw_c checksum of the first dialect

for _, d in ipairs(seen_dialects) do
  say("")
  say("%s", DIALECTS[d] or d)
  say("%-14s %-9s %10s %8s %7s %8s %20s %9s %7s  %s", "workload", "impl",
      "median s", "x raw C", "ops", "rows", "checksum", "peak MB", "B/row",
      "notes")
  local luasql_bpr
  for _, w in ipairs(WORKLOADS) do
    local byimpl = (results[d] or {})[w] or {}
    local raw = byimpl.raw_c
    local raw_med = raw and median(raw.secs)
    local label = w .. " " .. TITLES[w]
    for _, impl in ipairs(IMPLS) do
      local r = byimpl[impl]
      if r then
        local notes = {}
        local med = median(r.secs)
        local ratio = (med and raw_med and raw_med > 0) and med / raw_med
        local wl = label
        if count_keys(r.checksums) > 1 then
          notes[#notes + 1] = "CHECKSUM MISMATCH between rounds"
          mismatches[#mismatches + 1] = impl .. " " .. d .. " " .. w
        end
        local raw_sum = raw and raw.checksum
        if raw_sum and r.checksum and r.checksum ~= raw_sum then
          notes[#notes + 1] = "CHECKSUM MISMATCH (raw C: " .. raw_sum .. ")"
          mismatches[#mismatches + 1] = impl .. " " .. d .. " " .. w
        end
        if impl == "raw_c" and r.checksum then
          if ref_checksum[w] and ref_checksum[w] ~= r.checksum then
            notes[#notes + 1] = "CHECKSUM MISMATCH with the other dialect"
            mismatches[#mismatches + 1] = "raw_c " .. d .. " " .. w
          end
          ref_checksum[w] = ref_checksum[w] or r.checksum
        end
        if r.error then notes[#notes + 1] = "error: " .. r.error end
        local peak, bpr = median(r.peak), nil
        if peak then
          local base = median(r.base)
          local rows = tonumber(r.rows)
          if base and rows and rows > 0 then
            bpr = (peak - base) * 1024 / rows
          end
          if impl == "luasql" then luasql_bpr = bpr end
        end
        if impl == "assoc" and ratio then
          local t = TARGET[d]
          if t then
            local ok = ratio <= t
            notes[#notes + 1] = string.format("target <= %.2f: %s", t,
                                              ok and "met" or "MISSED")
            if not ok then misses[#misses + 1] = d .. " " .. w end
          end
          if w == "W5" and bpr and luasql_bpr then
            local ok = bpr <= luasql_bpr
            notes[#notes + 1] = "memory <= LuaSQL: "
                                .. (ok and "met" or "MISSED")
            if not ok then misses[#misses + 1] = d .. " W5 memory" end
          end
        end
        say("%-14s %-9s %10s %8s %7s %8s %20s %9s %7s  %s", wl, impl,
            med and string.format("%.4f", med) or "-",
            ratio and string.format("%.2f", ratio) or "-",
            r.ops or "-", r.rows or "-", r.checksum or "-",
            peak and string.format("%.1f", peak / 1024) or "",
            bpr and string.format("%.0f", bpr) or "",
            table.concat(notes, "; "))
        label = ""
      end
    end
  end
  for _, impl in ipairs(IMPLS) do
    local r = ((results[d] or {}).run or {})[impl]
    if r then say("%-14s %-9s  did not finish every round (see errors)", "",
                  impl) end
  end
end

say("")
say("x raw C: median seconds over raw C's median in the same run.  peak MB:"
    .. " VmHWM of the")
say("process that ran W5 alone; B/row: its growth over the process's RSS"
    .. " before W5,")
say("per materialised row.")
if #errors > 0 then
  say("")
  say("errors:")
  local shown = {}
  for _, e in ipairs(errors) do
    if not shown[e] then
      shown[e] = true
      say("  %s", e)
    end
  end
end
if #misses > 0 then
  say("")
  say("targets missed by assoc: %s", table.concat(misses, ", "))
end
if #mismatches > 0 then
  say("")
  say("!!! CHECKSUM MISMATCH: %s", table.concat(mismatches, ", "))
  say("!!! an implementation read or wrote something else than raw C did")
end
io.stdout:write(table.concat(out, "\n"), "\n")
os.exit(#mismatches > 0 and 1 or 0)
