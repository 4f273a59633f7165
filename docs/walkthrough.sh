#!/usr/bin/env bash
# One whole case, from a notifiable incident to closure, with curl.
# Needs a running server (`make run`) and TOKEN set to the token `make run` printed.
# API is the server's API root (default http://127.0.0.1:8000/api/v1; set it when
# `make run` was given another HOST or PORT). A lost token: a new one with
# `.venv/bin/casereview tokens create admin`. Exit status non-zero, with a message on
# stderr, when the server cannot be reached, the token is refused, or a step fails.
# Tested in CI against a live server (tests/e2e/test_walkthrough.py).
set -euo pipefail
API=${API:-http://127.0.0.1:8000/api/v1}
AUTH="Authorization: Bearer ${TOKEN:?set TOKEN to your API token}"
trap 'echo "walkthrough: the step at line $LINENO failed (curl exit $?); see the error above" >&2' ERR

# 0. Check the server and the token first, so that a mistake says what it is.
if ! STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "$API/me"); then
  trap - ERR
  echo "walkthrough: cannot reach $API - is the server running (make run)?" \
       "Set API=http://HOST:PORT/api/v1 if it listens elsewhere." >&2
  exit 2
fi
if [ "$STATUS" = 401 ]; then
  trap - ERR
  echo "walkthrough: the server refused TOKEN (401). Get a new token with" \
       "'.venv/bin/casereview tokens create admin' and export TOKEN=crt_..." >&2
  exit 2
fi
if [ "$STATUS" != 200 ]; then
  trap - ERR
  echo "walkthrough: $API/me answered HTTP $STATUS; is API the API root (ending in /api/v1)?" >&2
  exit 2
fi
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# 1. A local authority officer logs the incident (the criteria decide the path).
CASE=$(curl -sf -X POST "$API/incidents" -H "$AUTH" -H 'Content-Type: application/json' -d '{
  "incident_date": "2025-03-01", "aware_date": "2025-03-03",
  "location": "Family home, Anytown",
  "criteria": {"nature": "serious_harm", "abuse_or_neglect": "suspected", "child_age_years": 0},
  "children": [{"pseudonym": "Child A", "age_years": 0, "sex": "female"}],
  "case_outline": "Non-mobile infant presented at A&E with bruising."}')
ID=$(echo "$CASE" | field '["id"]')
VERSION=$(echo "$CASE" | field '["version"]')
echo "case $ID: $(echo "$CASE" | field '["state"]')"

# 2. Every later step is a command: POST /cases/{id}/<action> with If-Match: "<version>".
step() {
  local out
  out=$(curl -sf -X POST "$API/cases/$ID/$1" -H "$AUTH" -H "If-Match: \"$VERSION\"" \
        -H 'Content-Type: application/json' -d "$2")
  VERSION=$(echo "$out" | field '["version"]')
  echo "$1 -> $(echo "$out" | field '.get("state", "action plan updated")') (version $VERSION)"
}

step notification '{"notification_date": "2025-03-07", "partners_informed_date": "2025-03-07"}'
step rapid-review '{"meeting_date": "2025-03-18", "sent_to_panel_date": "2025-03-20",
  "agencies_present": ["Local authority", "Police", "ICB"],
  "summary": "Facts gathered from all agencies.", "immediate_actions": "Sibling safety plan.",
  "learning": "Bruising protocol not followed.", "parallel_processes": ["police_investigation"],
  "recommended_decision": "local_review", "rationale": "Systemic learning likely."}'
step decision '{"decision": "local_review", "decision_date": "2025-03-20",
  "reasons": "Potential for systemic learning.", "signed_off_by": ["LA", "Police", "ICB"]}'
step panel-response '{"response_date": "2025-04-01", "agrees_with_decision": true}'
step reviewer '{"reviewer_name": "Jane Reviewer", "commissioned_date": "2025-04-10",
  "independence_declared": true}'
step terms-of-reference '{"agreed_date": "2025-04-24", "scope_start_date": "2024-01-01",
  "scope_end_date": "2025-03-01", "key_lines_of_enquiry": ["Response to bruising"]}'
step report '{"received_date": "2025-08-01", "recommendations": ["Refresh the bruising protocol"]}'
step pre-publication '{"sent_date": "2025-08-05", "planned_publication_date": "2025-08-20"}'
step publication '{"published_date": "2025-08-20", "url": "https://example.org/lcspr-child-a"}'

# 3. Action-plan monitoring: each recommendation gets an action owned by an agency;
#    the owner reports progress, the review group signs it off, then the case closes.
step actions '{"recommendation_number": 1, "description": "Re-issue the bruising protocol",
  "agency": "health_icb", "owner": "Designated nurse", "due_date": "2025-10-31"}'
ACTION=$(curl -sf "$API/cases/$ID/actions" -H "$AUTH" | field '["actions"][0]["id"]')
step "actions/$ACTION/progress" '{"status": "completed_awaiting_evidence",
  "note": "Protocol re-issued; audit of 20 records attached."}'
step "actions/$ACTION/sign-off" '{"note": "Evidence seen by the case review sub-group."}'
step closure '{"closed_date": "2025-12-01", "reason": "Action plan signed off."}'

# 4. The case, its deadlines and its timeline.
curl -sf "$API/cases/$ID" -H "$AUTH" \
  | field '["deadlines"]' | python3 -c "import ast,sys; [print(d['name'], d['state'], d['due_date'], d['on_time']) for d in ast.literal_eval(sys.stdin.read())]"
curl -sf "$API/cases/$ID/timeline" -H "$AUTH" | field '["items"][-1]["to_state"]'
