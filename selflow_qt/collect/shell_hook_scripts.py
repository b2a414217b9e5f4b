"""The hooks `selflow shell-init bash|zsh|fish` prints: each appends one record per finished
command to a per-session spool file in the data folder (see collect.shell_spool for the format).

Why a spool file and not a socket: bash and fish cannot open a Unix socket without starting a
program, and a program per prompt costs milliseconds (McFly and Atuin start their binary at
every command). An append with the shell's own ``printf`` costs tens of microseconds, never
blocks (SelFlow running or not) and keeps the commands typed while SelFlow is stopped until it
reads them. The scripts are kept here, not in ``resources/``, so every install (wheel, bundle)
has them.
"""

from __future__ import annotations

import os

SHELLS = ("bash", "zsh", "fish")

# bash >= 5 (EPOCHREALTIME). PS0 is expanded after a line is read and before it runs: an
# arithmetic subscript there stores the start time without printing anything or forking. At the
# next prompt the line is the newest history entry, if the history grew (HISTCMD moved): a line
# bash keeps out of its history (a leading space with ignorespace, a repeat with ignoredups)
# stays out of SelFlow too. The folder is the one the line was typed in (kept at each prompt).
# The record goes first in PROMPT_COMMAND to see the command's $?,
# and hands $? on unchanged.
_BASH = r"""# SelFlow: records each command when it finishes (selflow shell-init bash).
if [[ -n ${BASH_VERSION-} && ${BASH_VERSINFO[0]} -ge 5 && $- == *i* && -z ${__selflow_spool-} ]] \
  && shopt -q promptvars; then
  __selflow_dir=@DIR@
  if [[ -d $__selflow_dir ]] || command mkdir -p -m 700 -- "$__selflow_dir" 2>/dev/null; then
    __selflow_sid="$$.$EPOCHSECONDS"
    __selflow_spool="$__selflow_dir/bash.$__selflow_sid.spool"
    ( umask 077 && : >>"$__selflow_spool" ) 2>/dev/null
    __selflow_a=('')
    __selflow_h=$HISTCMD __selflow_pwd=$PWD
    __selflow_precmd() {
      local s=$? e=${EPOCHREALTIME/[.,]/} t=${__selflow_t-}
      if [[ -n $t && $__selflow_h != "$HISTCMD" ]]; then
        {
          builtin printf '\036v1 bash %s %s.%s %s.%s %s - hist\0%s\0' "$__selflow_sid" \
            "${t%??????}" "${t: -6}" "${e%??????}" "${e: -6}" "$s" "$__selflow_pwd"
          HISTTIMEFORMAT= builtin history 1
          builtin printf '\0\n'
        } >>"$__selflow_spool" 2>/dev/null
      fi
      __selflow_h=$HISTCMD __selflow_pwd=$PWD
      unset __selflow_t
      return $s
    }
    PS0="${PS0-}"'${__selflow_a[(__selflow_t=${EPOCHREALTIME/[.,]/}),0]}'
    # The suggestion: the first line of SelFlow's ready file that extends what is typed, put on
    # the command line by a key (Ctrl-G unless SELFLOW_SUGGEST_KEY names another).
    __selflow_suggest() {
      local f="$__selflow_dir/suggest.$__selflow_sid" line
      [[ -r $f ]] || f="$__selflow_dir/suggest"
      local -a lines=()
      [[ -r $f ]] && builtin mapfile -t lines <"$f" 2>/dev/null
      for line in "${lines[@]}"; do
        if [[ $line == "$READLINE_LINE"* && $line != "$READLINE_LINE" ]]; then
          READLINE_LINE=$line READLINE_POINT=${#line}
          return
        fi
      done
    }
    if [[ @PROMPT@ == on ]]; then
      builtin bind -x "\"${SELFLOW_SUGGEST_KEY:-\\C-g}\": __selflow_suggest" 2>/dev/null
    fi
    if [[ ${PROMPT_COMMAND@a} == *a* ]]; then
      PROMPT_COMMAND=(__selflow_precmd "${PROMPT_COMMAND[@]}")
    else
      PROMPT_COMMAND="__selflow_precmd${PROMPT_COMMAND:+$'\n'$PROMPT_COMMAND}"
    fi
  fi
fi
"""

# zsh: preexec gets the line as typed, precmd runs at the next prompt. The precmd goes first in
# precmd_functions so that $? is the command's. With HIST_IGNORE_SPACE a line that starts with
# a space is not recorded, as zsh does not keep it.
_ZSH = r"""# SelFlow: records each command when it finishes (selflow shell-init zsh).
if [[ -o interactive && -z ${__selflow_spool-} ]]; then
  zmodload zsh/datetime 2>/dev/null
  typeset -g __selflow_dir=@DIR@
  if [[ -d $__selflow_dir ]] || command mkdir -p -m 700 -- "$__selflow_dir" 2>/dev/null; then
    typeset -g __selflow_sid="$$.$EPOCHSECONDS"
    typeset -g __selflow_spool="$__selflow_dir/zsh.$__selflow_sid.spool"
    ( umask 077 && : >>| "$__selflow_spool" ) 2>/dev/null
    typeset -g __selflow_line= __selflow_t= __selflow_pwd=
    __selflow_preexec() { __selflow_line=$1 __selflow_pwd=$PWD __selflow_t=$EPOCHREALTIME }
    __selflow_precmd() {
      local s=$? e=$EPOCHREALTIME
      if [[ -n $__selflow_t ]] && ! [[ -o histignorespace && $__selflow_line == ' '* ]]; then
        builtin print -rn -- $'\x1e'"v1 zsh $__selflow_sid $__selflow_t $e $s - raw"$'\0'"$__selflow_pwd"$'\0'"${__selflow_line//$'\0'/}"$'\0\n' >>| "$__selflow_spool" 2>/dev/null
      fi
      __selflow_t=
      return $s
    }
    typeset -ga precmd_functions preexec_functions
    precmd_functions=(__selflow_precmd $precmd_functions)
    preexec_functions+=(__selflow_preexec)
    # The suggestion: the first line of SelFlow's ready file that extends what is typed. With
    # zsh-autosuggestions it is that plugin's first strategy; else SelFlow draws it as grey ghost
    # text itself, accepted with the right arrow or End, as the plugin's is. Where the user looks
    # again (an empty line, or right after a space) a line shown at an earlier look on this line
    # is passed by: who wanted it would have taken it there (the scorer ranks so, bench/learning).
    typeset -gA __selflow_shown  # line -> how much was typed when a look first showed it
    __selflow_match() {
      local typed=$1 f=$__selflow_dir/suggest.$__selflow_sid line look=0
      [[ -r $f ]] || f=$__selflow_dir/suggest
      REPLY=
      [[ -r $f ]] || return 1
      [[ -z $typed ]] && __selflow_shown=()
      [[ -z $typed || $typed == *' ' ]] && look=1
      for line in "${(@f)$(<$f)}"; do
        [[ $line == "$typed"* && $line != "$typed" ]] || continue
        if (( look && ${+__selflow_shown[$line]} )) && (( __selflow_shown[$line] < ${#typed} )); then
          continue
        fi
        (( look && ! ${+__selflow_shown[$line]} )) && __selflow_shown[$line]=${#typed}
        REPLY=$line
        return 0
      done
      return 1
    }
    _zsh_autosuggest_strategy_selflow() {
      typeset -g suggestion
      __selflow_match "$1" && suggestion=$REPLY
    }
    if [[ @PROMPT@ == on ]]; then
      typeset -ga ZSH_AUTOSUGGEST_STRATEGY
      ZSH_AUTOSUGGEST_STRATEGY=(selflow ${ZSH_AUTOSUGGEST_STRATEGY:-history})
      __selflow_ghost() {
        (( ${+functions[_zsh_autosuggest_start]} )) && return  # the plugin draws it
        if (( CURSOR == ${#BUFFER} )) && __selflow_match "$BUFFER"; then
          POSTDISPLAY=${REPLY#"$BUFFER"}
          region_highlight=("${(@)region_highlight:#*selflow}" "${#BUFFER} $(( ${#BUFFER} + ${#POSTDISPLAY} )) fg=8 memo=selflow")
        else
          POSTDISPLAY=
        fi
      }
      __selflow_accept() {
        if [[ -n $POSTDISPLAY ]] && (( CURSOR == ${#BUFFER} )) \
          && ! (( ${+functions[_zsh_autosuggest_start]} )); then
          BUFFER+=$POSTDISPLAY
          POSTDISPLAY=
          CURSOR=${#BUFFER}
        else
          zle .$WIDGET
        fi
      }
      if autoload -Uz add-zle-hook-widget 2>/dev/null; then
        add-zle-hook-widget line-pre-redraw __selflow_ghost 2>/dev/null
        zle -N forward-char __selflow_accept
        zle -N end-of-line __selflow_accept
      fi
    fi
  fi
fi
"""

# fish has no clock builtin (fish-shell issue 10093): a record carries the duration fish
# measures ($CMD_DURATION, ms) and SelFlow dates it when it reads it. Fields are URL-escaped
# with `string escape` (a builtin), so a record is one line. Like fish's own history, a line
# that starts with a space is not recorded.
_FISH = r"""# SelFlow: records each command when it finishes (selflow shell-init fish).
if status is-interactive; and not set -q __selflow_spool
    set -g __selflow_dir @DIR@
    if test -d $__selflow_dir; or command mkdir -p -m 700 -- $__selflow_dir 2>/dev/null
        set -g __selflow_sid $fish_pid.(random)
        set -g __selflow_spool $__selflow_dir/fish.$__selflow_sid.spool
        set -l __selflow_umask (umask)
        umask 077
        true >>$__selflow_spool 2>/dev/null
        umask $__selflow_umask
        # The suggestion: the first line of SelFlow's ready file that extends what is typed,
        # put on the command line by a key (Ctrl-G unless SELFLOW_SUGGEST_KEY names another).
        # One regex pass over the file (a `while read` loop took ~25 ms on 200 lines).
        function __selflow_match
            set -l f $__selflow_dir/suggest.$__selflow_sid
            test -r $f; or set f $__selflow_dir/suggest
            test -r $f; or return 1
            set -l hits (string match -r -- '^'(string escape --style=regex -- "$argv[1]")'.+' <$f)
            test -n "$hits[1]"; or return 1
            printf '%s\n' $hits[1]
        end
        function __selflow_suggest
            set -l line (__selflow_match (commandline)); or return
            commandline -r -- $line
            commandline -C (string length -- $line)
        end
        if test @PROMPT@ = on
            set -q SELFLOW_SUGGEST_KEY; or set -g SELFLOW_SUGGEST_KEY \cg
            bind $SELFLOW_SUGGEST_KEY __selflow_suggest
            bind -M insert $SELFLOW_SUGGEST_KEY __selflow_suggest 2>/dev/null
        end
        function __selflow_preexec --on-event fish_preexec
            set -g __selflow_pwd $PWD
        end
        # The folder is the one the line was typed in; `exit` is not recorded (bash and zsh
        # never see their last command either).
        function __selflow_postexec --on-event fish_postexec
            set -l s $status
            set -l d $CMD_DURATION
            set -q __selflow_pwd; or set -g __selflow_pwd $PWD
            if test -n "$argv[1]"; and test "$argv[1]" != exit; and not string match -q -- ' *' "$argv[1]"
                printf '\x1ev1 fish %s - - %s %s url %s %s\n' $__selflow_sid $s $d (string escape --style=url -- $__selflow_pwd) (string escape --style=url -- "$argv[1]") >>$__selflow_spool 2>/dev/null
            end
        end
    end
end
"""

_SCRIPTS = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}


def _quote(shell: str, text: str) -> str:
    if shell == "fish":
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + text.replace("'", "'\\''") + "'"


def hook_script(shell: str, spool_dir: str | os.PathLike, *, suggest: bool = True) -> str:
    """The hook for ``shell`` that appends to spool files in ``spool_dir`` and, with
    ``suggest``, shows SelFlow's next-command suggestion (zsh: ghost text; bash, fish: a key)."""
    if shell not in _SCRIPTS:
        raise ValueError(f"unknown shell {shell!r} (one of {', '.join(SHELLS)})")
    script = _SCRIPTS[shell].replace("@DIR@", _quote(shell, os.fspath(spool_dir)))
    return script.replace("@PROMPT@", "on" if suggest else "off")
