# The development settings of ./scripts/run-demo (sourced by it, and by a test that builds
# the app with exactly these). Anything already set in the environment is kept.
export APP_ENV="${APP_ENV:-development}"
export PORT="${PORT:-5599}"
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:$PORT}"
# Agents "answer" around the clock, so that the hand-off to the console can be tried at any
# hour (set AGENT_HOURS=08:00-24:00 to hear the after-hours callback offer instead).
export AGENT_HOURS="${AGENT_HOURS:-00:00-24:00}"

# No Twilio account: the app's own Twilio REST stand-in (/dev/twilio, development only)
# answers Take, callbacks and SMS, and the call simulator page plays what it was told.
# (`flask` also reads .env: an account configured there counts as set.)
if [ -z "${TWILIO_ACCOUNT_SID:-}" ] && ! grep -qs '^\(export \)\?TWILIO_ACCOUNT_SID=.' "${ROOT:-.}/.env"; then
    export TWILIO_ACCOUNT_SID="AC00000000000000000000000000005599"  # a made-up development account
    export TWILIO_API_BASE_URL="${TWILIO_API_BASE_URL:-http://127.0.0.1:$PORT/dev/twilio}"
    export HOTLINE_CALLER_ID="${HOTLINE_CALLER_ID:-+9645599}"  # callbacks come "from" the hotline
    export SMS_FROM="${SMS_FROM:-5599}"
fi
