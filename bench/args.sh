# Shared by the bench scripts' command lines: source it after setting
# `script` (the script's name) and `caller` (the folder it was started
# from), before reading the arguments.
#
#   usage_error MESSAGE       says what is wrong and exits 2
#   abs_path PATH             PATH from the caller's folder, absolute
#   whole NAME VALUE MIN MAX  exits 2 unless VALUE is a whole number in MIN..MAX

usage_error() { echo "$script: $*" >&2; echo "(see $script --help)" >&2; exit 2; }
abs_path() { case $1 in /*) echo "$1" ;; *) echo "$caller/$1" ;; esac; }
whole() { # name, value, min, max
  [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] ||
    usage_error "--$1 must be a whole number from $3 to $4, got '$2'"
}
