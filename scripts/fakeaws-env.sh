# Sourced by scripts that need the fake AWS with its demo seed (scripts/demo.sh,
# tests/harden/valgrind_demo.sh). Expects $work (a temporary folder the caller
# removes) and FAKE_ARGS (extra fakeaws options, may be empty); starts the fake
# on 127.0.0.1, sets fake_pid, and exports the AWS_* variables of the demo
# account. The caller's EXIT trap stops it: kill "$fake_pid".
(cd tests/fakeaws && exec /usr/bin/python3 -m fakeaws --seed seeds/demo.json \
    ${FAKE_ARGS:-} --port 0 --ready-file "$work/ready") >"$work/fake.log" 2>&1 &
fake_pid=$!
i=0
while [ ! -s "$work/ready" ]; do
    i=$((i + 1))
    if [ "$i" -gt 100 ] || ! kill -0 "$fake_pid" 2>/dev/null; then
        echo "the fake AWS did not start:" >&2
        cat "$work/fake.log" >&2
        exit 1
    fi
    sleep 0.1
done

# The demo account's keys exist only inside the fake AWS.
AWS_ENDPOINT_URL=$(head -n 1 "$work/ready")
AWS_ACCESS_KEY_ID=AKIAFAKEDEMO00000001
AWS_SECRET_ACCESS_KEY=fakedemosecretkey000000000000000000000001
AWS_CONFIG_FILE=/dev/null
AWS_SHARED_CREDENTIALS_FILE=/dev/null
AWS_EC2_METADATA_DISABLED=true
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_CONFIG_FILE \
    AWS_SHARED_CREDENTIALS_FILE AWS_EC2_METADATA_DISABLED
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION 2>/dev/null || true
