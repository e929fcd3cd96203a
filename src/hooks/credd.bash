# credd's shell hook for bash and zsh. Install with: eval "$(credd hook bash)"  (or zsh)
# At each prompt, for almost nothing (no subprocess, no socket) when nothing changed:
#  - if this shell's variables came from `credd export` (CREDD_SESSION) and the daemon has
#    refreshed that session since, re-export the new credentials;
#  - if the shell holds a session with a known expiry, tell the daemon once (key ID and expiry,
#    never the secret) so `credd status` lists it and credd warns before it expires.
_credd_bin=__CREDD_BIN__
_credd_rt=__CREDD_RUNTIME__
_credd_hook() {
  if [[ -n "${CREDD_SESSION-}" && "$_credd_rt/gen/$CREDD_SESSION" -nt "$_credd_rt/shells/$$" ]]; then
    local _credd_env
    if _credd_env="$("$_credd_bin" export "$CREDD_SESSION" --format env 2>/dev/null)"; then
      eval "$_credd_env"
    fi
    : > "$_credd_rt/shells/$$"
  fi
  local _credd_exp="${AWS_CREDENTIAL_EXPIRATION:-${AWS_SESSION_EXPIRATION:-${AWSUME_EXPIRATION-}}}"
  if [[ -n "${AWS_ACCESS_KEY_ID-}" && -n "$_credd_exp" && "${_credd_registered-}" != "$AWS_ACCESS_KEY_ID|$_credd_exp" ]]; then
    _credd_registered="$AWS_ACCESS_KEY_ID|$_credd_exp"
    local -a _credd_args
    _credd_args=(register-shell --pid "$$" --key-id "$AWS_ACCESS_KEY_ID" --expires "$_credd_exp" --tty "$(tty 2>/dev/null)")
    [[ -n "${CREDD_SESSION-}" ]] && _credd_args+=(--session "$CREDD_SESSION")
    ("$_credd_bin" "${_credd_args[@]}" >/dev/null 2>&1 &)
  fi
}
mkdir -p "$_credd_rt/shells" 2>/dev/null && : > "$_credd_rt/shells/$$"
if [[ -n "${ZSH_VERSION-}" ]]; then
  autoload -Uz add-zsh-hook && add-zsh-hook precmd _credd_hook
else
  case ";${PROMPT_COMMAND-};" in
    *";_credd_hook;"*) ;;
    *) PROMPT_COMMAND="_credd_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}" ;;
  esac
fi
