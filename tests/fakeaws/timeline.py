"""Figures computed from a fakeaws timeline (GET /_fake/timeline -> {"events": [...]}).

    from timeline import Timeline
    tl = Timeline(fake.timeline())            # or Timeline.load("timeline.json")
    tl.max_concurrent_active()                # {token: max PENDING+RUNNING tasks at once}
    tl.completed()                            # {(account, region, group, from, to): [task ids]}
    tl.duplicates()                           # the entries of completed() with more than one task
    tl.idle_gaps()                            # {token: [seconds between a task's end and the next creation]}
    tl.api_calls()                            # {operation: count}

Tokens are the account ("account" scope) or "account/region" ("region" scope); the
default scope is read from the task events themselves (the fake's configured scope).

Command line: /usr/bin/python3 timeline.py URL|FILE [--scope account|region]
"""
import json
import sys

ACTIVE = ("PENDING", "RUNNING")
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")


class Timeline:
    def __init__(self, events, scope=None):
        if isinstance(events, dict):
            events = events.get("events", [])
        self.events = sorted(events, key=lambda e: e["seq"])
        self.scope = scope

    @classmethod
    def load(cls, path, scope=None):
        with open(path) as f:
            return cls(json.load(f), scope)

    @classmethod
    def fetch(cls, url, scope=None):
        import urllib.request
        with urllib.request.urlopen(url.rstrip("/") + "/_fake/timeline", timeout=30) as r:
            return cls(json.load(r), scope)

    def token(self, e):
        if self.scope == "account":
            return e["account"]
        if self.scope == "region":
            return "%s/%s" % (e["account"], e["region"])
        return e.get("token") or e["account"]

    def task_events(self, include_foreign=True):
        return [e for e in self.events if e["kind"] == "task" and (include_foreign or not e.get("foreign"))]

    def requests(self):
        return [e for e in self.events if e["kind"] == "request"]

    def tasks(self):
        """{task_id: {"token", "created", "ended", "final", "states": [(t, state)], ...}}"""
        out = {}
        for e in self.task_events():
            d = out.get(e["task_id"])
            if d is None:
                d = out[e["task_id"]] = {"task_id": e["task_id"], "token": self.token(e), "account": e["account"],
                                         "region": e["region"], "log_group": e["log_group"], "from": e["from"],
                                         "to": e["to"], "task_name": e.get("task_name"),
                                         "foreign": e.get("foreign", False), "created": e["t"], "ended": None,
                                         "final": None, "states": []}
            d["states"].append((e["t"], e["state"]))
            if e["state"] in TERMINAL:
                d["ended"] = e["t"]
                d["final"] = e["state"]
        return out

    def max_concurrent_active(self, include_foreign=True):
        """Largest number of tasks PENDING or RUNNING at the same time, per token."""
        cur, best, state = {}, {}, {}
        for e in self.task_events(include_foreign):
            tok = self.token(e)
            was = state.get(e["task_id"])
            now_active = e["state"] in ACTIVE
            was_active = was in ACTIVE
            if now_active and not was_active:
                cur[tok] = cur.get(tok, 0) + 1
            elif was_active and not now_active:
                cur[tok] -= 1
            state[e["task_id"]] = e["state"]
            best[tok] = max(best.get(tok, 0), cur.get(tok, 0))
        return best

    def completed(self, include_foreign=False):
        out = {}
        for e in self.task_events(include_foreign):
            if e["state"] == "COMPLETED":
                out.setdefault((e["account"], e["region"], e["log_group"], e["from"], e["to"]), []).append(e["task_id"])
        return out

    def duplicates(self, include_foreign=False):
        return {k: v for k, v in self.completed(include_foreign).items() if len(v) > 1}

    def idle_gaps(self, include_foreign=True):
        """Per token: seconds from the end of a task to the creation of the next task in the
        same token, counted only when the token was idle in between (no other active task)."""
        gaps = {}
        active, last_end, state = {}, {}, {}
        for e in self.task_events(include_foreign):
            tok = self.token(e)
            was = state.get(e["task_id"])
            if was is None and e["state"] in ACTIVE:
                if active.get(tok, 0) == 0 and tok in last_end:
                    gaps.setdefault(tok, []).append(round(e["t"] - last_end[tok], 6))
                active[tok] = active.get(tok, 0) + 1
            elif was in ACTIVE and e["state"] not in ACTIVE:
                active[tok] -= 1
                if active[tok] == 0:
                    last_end[tok] = e["t"]
            state[e["task_id"]] = e["state"]
        return gaps

    def api_calls(self, by="op"):
        out = {}
        for e in self.requests():
            k = e.get(by)
            out[k] = out.get(k, 0) + 1
        return out

    def api_outcomes(self):
        out = {}
        for e in self.requests():
            out.setdefault(e["op"], {})
            out[e["op"]][e["outcome"]] = out[e["op"]].get(e["outcome"], 0) + 1
        return out

    def summary(self):
        gaps = self.idle_gaps()
        allg = [g for v in gaps.values() for g in v]
        return {
            "events": len(self.events),
            "max_concurrent_active": self.max_concurrent_active(),
            "completed": sum(len(v) for v in self.completed().values()),
            "duplicates": {"%s|%s|%s|%s|%s" % k: v for k, v in self.duplicates().items()},
            "idle_gap_s": {"count": len(allg), "max": max(allg) if allg else 0,
                           "mean": sum(allg) / len(allg) if allg else 0},
            "api_calls": self.api_calls(),
            "api_outcomes": self.api_outcomes(),
        }


# module-level shortcuts
def max_concurrent_active(events, scope=None):
    return Timeline(events, scope).max_concurrent_active()


def completed(events, scope=None):
    return Timeline(events, scope).completed()


def duplicates(events, scope=None):
    return Timeline(events, scope).duplicates()


def idle_gaps(events, scope=None):
    return Timeline(events, scope).idle_gaps()


def api_calls(events):
    return Timeline(events).api_calls()


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("source", help="fakeaws URL or a saved timeline JSON file")
    ap.add_argument("--scope", choices=("account", "region"))
    a = ap.parse_args()
    tl = Timeline.fetch(a.source, a.scope) if a.source.startswith("http") else Timeline.load(a.source, a.scope)
    json.dump(tl.summary(), sys.stdout, indent=2)
    print()
