#!/usr/bin/env bash
# The zsh and fish completions (docs/analyze-logs.{zsh,fish}-completion) load in a real zsh and
# fish and complete what the bash one does: option values, options of the analysis and of
# compare, the compare subcommand; and every option `--help` lists is in each of the three.
# zsh is driven interactively through a pseudo-terminal (zsh/zpty) with compinit, pressing TAB;
# fish answers `complete -C`. (tests/e2e/test_install.sh checks that they are installed.)
#
# Usage: test_completions.sh BINARY SOURCE_DIR   (as ctest runs it)
set -euo pipefail
bin=${1:?usage: test_completions.sh BINARY SOURCE_DIR}
src=${2:?usage: test_completions.sh BINARY SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}
command -v zsh >/dev/null || fail "zsh is not installed (tests/install-deps.sh --test installs it)"
command -v fish >/dev/null || fail "fish is not installed (tests/install-deps.sh --test installs it)"
zsh_file=$src/docs/analyze-logs.zsh-completion
fish_file=$src/docs/analyze-logs.fish-completion
bash_file=$src/docs/analyze-logs.bash-completion

# Every option of --help, in every completion.
for opt in $("$bin" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u) \
  $("$bin" compare --help | grep -oE -- '--[a-z][a-z-]+' | sort -u) \
  $("$bin" mcp --help | grep -oE -- '--[a-z][a-z-]+' | sort -u) \
  $("$bin" partial --help | grep -oE -- '--[a-z][a-z-]+' | sort -u) \
  $("$bin" merge --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
  for f in "$bash_file" "$zsh_file" "$fish_file"; do
    case $f in
      *fish*) grep -qE -- "-l ${opt#--}( |$)" "$f" || fail "$(basename "$f") lacks $opt (from --help)" ;;
      *) grep -qF -- "$opt" "$f" || fail "$(basename "$f") lacks $opt (from --help)" ;;
    esac
  done
done

# fish.
fish_complete() { fish --no-config -c "source '$fish_file'; complete -C '$1'" | cut -f1 | sort | tr '\n' ' '; }
[[ $(fish_complete 'analyze-logs --format ') == "json md text " ]] || fail "fish --format: $(fish_complete 'analyze-logs --format ')"
[[ $(fish_complete 'analyze-logs --fail-on ') == "critical warning " ]] || fail "fish --fail-on"
[[ $(fish_complete 'analyze-logs --jun') == "--junit " ]] || fail "fish --jun: $(fish_complete 'analyze-logs --jun')"
[[ $(fish_complete 'analyze-logs compare --fail-on') == "--fail-on-regression " ]] || fail "fish: compare offers the analysis's --fail-on"
[[ $(fish_complete 'analyze-logs comp') == *compare* ]] || fail "fish: no compare subcommand"
[[ $(fish_complete 'analyze-logs mc') == *mcp* ]] || fail "fish: no mcp subcommand"
[[ $(fish_complete 'analyze-logs mcp --par') == "--parallel"* ]] || fail "fish: mcp --parallel"
[[ $(fish_complete 'analyze-logs mcp --fail') == "" ]] || fail "fish: mcp offers the analysis's options"
[[ $(fish_complete 'analyze-logs compare --col') == "" ]] || fail "fish: compare offers --color"
[[ $(fish_complete 'analyze-logs part') == *partial* ]] || fail "fish: no partial subcommand"
[[ $(fish_complete 'analyze-logs partial --kind ') == "srtctl " ]] || fail "fish: partial --kind: $(fish_complete 'analyze-logs partial --kind ')"
[[ $(fish_complete 'analyze-logs merge --fail-on ') == "critical warning " ]] || fail "fish: merge --fail-on"
[[ $(fish_complete 'analyze-logs merge --cac') == "" ]] || fail "fish: merge offers --cache"
[[ $(fish_complete 'analyze-logs partial --fail') == "" ]] || fail "fish: partial offers the analysis's options"
echo "ok: fish completes values, options and the subcommand"

# zsh: an interactive zsh on a pseudo-terminal, compinit with the completion on $fpath, and
# compadd wrapped to record what is offered; each line is typed and completed with TAB.
mkdir "$tmp/fpath"
cp "$zsh_file" "$tmp/fpath/_analyze-logs"
cat >"$tmp/drive.zsh" <<'ZSH'
zmodload zsh/zpty
fp=$1 out=$2
shift 2
zpty z zsh -f -i
zpty -w z "fpath=($fp \$fpath); autoload -U compinit; compinit -u -D; bindkey -e; compadd() { local -a __h; builtin compadd -O __h \"\$@\"; print -rl -- \$__h >> $out; builtin compadd \"\$@\"; }; print SETUP''DONE"
buf='' deadline=$((SECONDS + 90))
while (( SECONDS < deadline )) && [[ $buf != *SETUPDONE* ]]; do
  if zpty -r -t z y; then buf+=$y; else sleep 0.2; fi
done
[[ $buf == *SETUPDONE* ]] || { print "zsh did not start"; exit 1; }
for line in "$@"; do
  : >| $out
  zpty -w -n z "$line"$'\t'
  deadline=$((SECONDS + 60))
  while [[ ! -s $out ]] && (( SECONDS < deadline )); do sleep 0.2; done
  sleep 1
  print -r -- "== $line"
  sort -u $out | tr '\n' ' '
  print
  zpty -w -n z $'\C-u'
  while zpty -r -t z y; do :; done
done
zpty -d z
ZSH
timeout 300 zsh -f "$tmp/drive.zsh" "$tmp/fpath" "$tmp/offered" \
  'analyze-logs --format=' 'analyze-logs --fail-on=' 'analyze-logs --jun' 'analyze-logs compare --fail-on' \
  'analyze-logs --col' 'analyze-logs mcp --par' 'analyze-logs partial --kind=' 'analyze-logs merge --jun' >"$tmp/zsh.out" || { cat "$tmp/zsh.out"; fail "driving zsh"; }
zsh_offered() { grep -A1 -xF -- "== $1" "$tmp/zsh.out" | tail -n1; }
[[ $(zsh_offered 'analyze-logs --format=') == *"json md text"* ]] || { cat "$tmp/zsh.out"; fail "zsh --format="; }
[[ $(zsh_offered 'analyze-logs --fail-on=') == *"critical warning"* ]] || { cat "$tmp/zsh.out"; fail "zsh --fail-on="; }
[[ $(zsh_offered 'analyze-logs --jun') == *"--junit"* ]] || { cat "$tmp/zsh.out"; fail "zsh --jun"; }
[[ $(zsh_offered 'analyze-logs --col') == *"--color"* ]] || { cat "$tmp/zsh.out"; fail "zsh --col"; }
o=$(zsh_offered 'analyze-logs compare --fail-on')
[[ $o == *"--fail-on-regression"* && $o != *"--fail-on "* && $o != *"--fail-on="* ]] || { cat "$tmp/zsh.out"; fail "zsh compare --fail-on: $o"; }
[[ $(zsh_offered 'analyze-logs mcp --par') == *"--parallel"* ]] || { cat "$tmp/zsh.out"; fail "zsh mcp --par"; }
[[ $(zsh_offered 'analyze-logs partial --kind=') == *"srtctl"* ]] || { cat "$tmp/zsh.out"; fail "zsh partial --kind="; }
[[ $(zsh_offered 'analyze-logs merge --jun') == *"--junit"* ]] || { cat "$tmp/zsh.out"; fail "zsh merge --jun"; }
echo "ok: zsh completes values and the options of the analysis, of compare, of mcp, of partial and of merge"
