#!/usr/bin/env bash
# Regenerates the fixture inputs (scripts/make_fixtures.py) and the expected outputs
# (scripts/oracle.py; the event-time ones: gen_time_fixture.py, gen_time_ops_fixture.py,
# gen_anomaly_fixture.py),
# then fails if they differ from the committed files: the committed fixtures are exactly
# what the scripts produce. Needs python3 >= 3.11 (tomllib).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/make_fixtures.py fixtures
python3 scripts/oracle.py fixtures
python3 scripts/gen_time_fixture.py
python3 scripts/gen_time_ops_fixture.py
python3 scripts/gen_anomaly_fixture.py
# New (untracked) files count as differences too.
if ! git diff --exit-code -- fixtures || [ -n "$(git status --porcelain -- fixtures)" ]; then
    git status --short -- fixtures >&2
    echo "check_fixtures: regenerated fixtures differ from the committed ones (see above)" >&2
    exit 1
fi
echo "check_fixtures: fixtures are up to date"
