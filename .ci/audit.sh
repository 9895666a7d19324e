#!/usr/bin/env bash
# Known vulnerabilities of every pinned dependency: pip-audit over constraints.txt (the exact
# versions of everything we install, direct and transitive), against PyPI's vulnerability data.
#
# Fails when any pinned version has a known vulnerability. When the vulnerability data cannot be
# fetched for some packages (no network, or an index mirror that does not serve PyPI's per-release
# JSON), it says so loudly and lists them; CRM_REQUIRE_AUDIT=1 turns that into a failure too.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
report=$(mktemp)
trap 'rm -f "$report"' EXIT

status=0
$BIN/pip-audit -r constraints.txt --no-deps --disable-pip --progress-spinner off \
  --format json --output "$report" 2>/dev/null || status=$?

$BIN/python - "$report" "$status" <<'PY'
import json
import os
import sys

path, status = sys.argv[1], int(sys.argv[2])
try:
    with open(path) as fh:
        data = json.load(fh)
except (OSError, ValueError):
    print(f"FAIL: pip-audit produced no report (exit {status})")
    sys.exit(1)
deps = data["dependencies"]
vulnerable = [d for d in deps if d.get("vulns")]
unaudited = [d for d in deps if d.get("skip_reason")]
audited = len(deps) - len(unaudited)
for dep in vulnerable:
    for vuln in dep["vulns"]:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
        print(f"VULNERABLE {dep['name']}=={dep['version']}: {vuln['id']} (fixed in: {fixes})")
print(f"pip-audit: {len(deps)} pinned packages, {audited} audited, {len(vulnerable)} with known vulnerabilities")
if vulnerable:
    print("FAIL: upgrade the packages above in constraints.txt (and requirements*.txt)")
    sys.exit(1)
if status not in (0, 1):
    print(f"FAIL: pip-audit exited with {status}")
    sys.exit(1)
if unaudited:
    print("!" * 100)
    print(f"DEPENDENCY AUDIT INCOMPLETE: no vulnerability data for {len(unaudited)} of {len(deps)} packages:")
    print("  " + " ".join(d['name'] for d in unaudited))
    print(f"  pip-audit says: {unaudited[0]['skip_reason']}")
    print("  (the package index in use does not serve PyPI's per-release JSON with its vulnerability data)")
    print("!" * 100)
    if os.environ.get("CRM_REQUIRE_AUDIT") == "1":
        print("FAIL: CRM_REQUIRE_AUDIT=1 requires every package to be audited")
        sys.exit(1)
PY
