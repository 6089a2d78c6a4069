# The development settings of ./scripts/run-demo (sourced by it, and by a test that builds
# the app with exactly these). Anything already set in the environment is kept.
export APP_ENV="${APP_ENV:-development}"
export PORT="${PORT:-5599}"
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:$PORT}"
# Agents "answer" around the clock, so that the hand-off to the console can be tried at any
# hour (set AGENT_HOURS=08:00-24:00 to hear the after-hours callback offer instead).
export AGENT_HOURS="${AGENT_HOURS:-00:00-24:00}"
# Caller and agent meet in a Twilio conference (hold, transfers, supervisors listening in),
# which the stand-in and the call simulator play; CALL_CONFERENCES=0 for the plain <Dial>.
export CALL_CONFERENCES="${CALL_CONFERENCES:-1}"

# No Twilio account: the app's own Twilio REST stand-in (/dev/twilio, development only)
# answers Take, callbacks and SMS, and the call simulator page plays what it was told.
# (`flask` also reads .env: an account configured there counts as set; the made-up
# development account that run-demo itself writes there does not.)
DEMO_ACCOUNT_SID="AC00000000000000000000000000005599"
if [ -z "${TWILIO_ACCOUNT_SID:-}" ] \
    && ! grep -s '^\(export \)\?TWILIO_ACCOUNT_SID=.' "${ROOT:-.}/.env" | grep -qv "$DEMO_ACCOUNT_SID"; then
    export TWILIO_ACCOUNT_SID="$DEMO_ACCOUNT_SID"  # a made-up development account
    export TWILIO_API_BASE_URL="${TWILIO_API_BASE_URL:-http://127.0.0.1:$PORT/dev/twilio}"
    export HOTLINE_CALLER_ID="${HOTLINE_CALLER_ID:-+9645599}"  # callbacks come "from" the hotline
    export SMS_FROM="${SMS_FROM:-5599}"
fi

# The same settings in .env (git-ignored), which `flask` reads: every flask command in a new
# terminal of this checkout then runs against the demo too. A .env of your own is left alone.
DOTENV_MARK="# Written by scripts/run-demo"
write_dotenv() {
    local file="${ROOT:-.}/.env" name
    if [ -e "$file" ] && ! head -1 "$file" | grep -qF "$DOTENV_MARK"; then
        echo "note: .env is yours (not written by run-demo); flask commands in other terminals read it as it is"
        return 0
    fi
    {
        echo "$DOTENV_MARK: the development settings it runs with, read by flask commands."
        echo "# Remove the line above to keep your own edits; delete the file to stop using these."
        for name in APP_ENV PORT PUBLIC_BASE_URL AGENT_HOURS CALL_CONFERENCES TWILIO_ACCOUNT_SID TWILIO_API_BASE_URL \
                    HOTLINE_CALLER_ID SMS_FROM; do
            if [ -n "${!name:-}" ]; then echo "$name=${!name}"; fi
        done
    } > "$file"
}
