# credd's shell hook for fish. Install with: credd hook fish | source
# At each prompt, for almost nothing (builtins only) when nothing changed: re-export credentials
# the daemon refreshed for this shell's CREDD_SESSION, and tell the daemon once about a session
# this shell holds (key ID and expiry, never the secret).
set -g __credd_bin __CREDD_BIN__
set -g __credd_rt __CREDD_RUNTIME__
mkdir -p $__credd_rt/shells 2>/dev/null; and echo -n > $__credd_rt/shells/$fish_pid
function __credd_hook --on-event fish_prompt
    if set -q CREDD_SESSION
        set -l gen $__credd_rt/gen/$CREDD_SESSION
        set -l mark $__credd_rt/shells/$fish_pid
        if test -e $gen; and begin; not test -e $mark; or test (path mtime $gen) -ge (path mtime $mark); end
            $__credd_bin export $CREDD_SESSION --format fish 2>/dev/null | source
            echo -n > $mark
        end
    end
    set -l exp $AWS_CREDENTIAL_EXPIRATION $AWS_SESSION_EXPIRATION $AWSUME_EXPIRATION
    if set -q AWS_ACCESS_KEY_ID; and test (count $exp) -gt 0; and test "$__credd_registered" != "$AWS_ACCESS_KEY_ID|$exp[1]"
        set -g __credd_registered "$AWS_ACCESS_KEY_ID|$exp[1]"
        set -l args register-shell --pid $fish_pid --key-id $AWS_ACCESS_KEY_ID --expires $exp[1] --tty (tty 2>/dev/null)
        set -q CREDD_SESSION; and set -a args --session $CREDD_SESSION
        $__credd_bin $args >/dev/null 2>&1 &
        disown 2>/dev/null
    end
end
