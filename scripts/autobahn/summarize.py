#!/usr/bin/env python3
"""Summarizes an Autobahn fuzzingclient report (index.json) per case group.

Usage: summarize.py INDEX_JSON [--strict-groups 12,13]
Prints a table of OK / NON-STRICT / INFORMATIONAL / UNIMPLEMENTED / FAILED per top-level group and exits 1 if
any case FAILED (behavior or close behavior), if a case in a strict group (the compression groups when
permessage-deflate is on) is UNIMPLEMENTED, or if the report has no agent or an agent ran no case (a run
that tested nothing is a failure, not a pass).
"""
import json
import sys

OUTCOMES = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]


def case_key(case_id):
    return tuple(int(part) for part in case_id.split("."))


def main():
    args = sys.argv[1:]
    if not args:
        print("usage: summarize.py INDEX_JSON [--strict-groups 12,13]", file=sys.stderr)
        return 2
    path = args[0]
    strict_groups = set()
    if "--strict-groups" in args:
        strict_groups = set(args[args.index("--strict-groups") + 1].split(","))
    with open(path) as handle:
        index = json.load(handle)
    if not index:
        print("autobahn: the report has no agent", file=sys.stderr)
        return 1
    problems = []
    for agent, cases in sorted(index.items()):
        if not cases:
            problems.append("%s: the agent ran no case" % agent)
        groups = {}
        for case_id in sorted(cases, key=case_key):
            result = cases[case_id]
            group = case_id.split(".")[0]
            counts = groups.setdefault(group, dict((outcome, 0) for outcome in OUTCOMES))
            behavior = result.get("behavior", "FAILED")
            counts[behavior] = counts.get(behavior, 0) + 1
            close = result.get("behaviorClose", "OK")
            if behavior == "FAILED":
                problems.append("%s: FAILED (close: %s)" % (case_id, close))
            elif close == "FAILED":
                problems.append("%s: close behavior FAILED" % case_id)
            elif behavior == "UNIMPLEMENTED" and group in strict_groups:
                problems.append("%s: UNIMPLEMENTED in a compression group" % case_id)
        print("Autobahn results for %s (%d cases)" % (agent, len(cases)))
        header = "%-6s" % "group" + "".join("%15s" % outcome for outcome in OUTCOMES)
        print(header)
        totals = dict((outcome, 0) for outcome in OUTCOMES)
        for group in sorted(groups, key=int):
            row = groups[group]
            print("%-6s" % group + "".join("%15d" % row.get(outcome, 0) for outcome in OUTCOMES))
            for outcome in OUTCOMES:
                totals[outcome] += row.get(outcome, 0)
        print("%-6s" % "total" + "".join("%15d" % totals[outcome] for outcome in OUTCOMES))
    if problems:
        print("")
        print("autobahn: %d problem(s):" % len(problems))
        for problem in problems:
            print("  " + problem)
        return 1
    print("autobahn: no FAILED case")
    return 0


if __name__ == "__main__":
    sys.exit(main())
